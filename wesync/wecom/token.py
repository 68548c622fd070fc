"""The access token: fetched once, shared, refreshed before it expires, and
kept on disk so that runs started by a timer do not call gettoken each time.

WeCom rate-limits gettoken and bans an IP for an hour after many failed
calls, so a token is fetched only when none is valid, and only once however
many coroutines ask at the same moment (a lock with a second look inside).

The cache file (mode 0600, in the state directory) maps a key made from the
base URL, the corpid and a hash of the secret to the token and its expiry.
The secret itself is never written. A file that cannot be read or parsed is
ignored: the worst that costs is one gettoken.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wesync.config import Secret
from wesync.logs import register_secret

log = logging.getLogger(__name__)

#: refresh this long before WeCom's expiry, at most (or 10% of the lifetime)
REFRESH_MARGIN = 300.0


@dataclass(frozen=True)
class AccessToken:
    value: str = field(repr=False)
    expires_at: float  #: clock time WeCom said it stops working
    refresh_at: float  #: clock time after which a new one is fetched

    @classmethod
    def issued(cls, value: str, expires_in: float, now: float) -> AccessToken:
        margin = min(REFRESH_MARGIN, expires_in * 0.1)
        return cls(value=value, expires_at=now + expires_in, refresh_at=now + expires_in - margin)

    def fresh(self, now: float) -> bool:
        return now < self.refresh_at


def cache_key(base_url: str, corpid: str, secret: Secret) -> str:
    """The token cache key for one app: never the secret, only a hash of it."""
    digest = hashlib.sha256(
        b"\0".join(s.encode() for s in (base_url.rstrip("/"), corpid, secret.reveal()))
    ).hexdigest()
    return f"{corpid}:{digest[:24]}"


class TokenCache:
    """The JSON file of tokens, one entry per app key."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock

    def _read_all(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable token cache %s (%s)", self.path, type(exc).__name__)
            return {}
        return data if isinstance(data, dict) else {}

    def load(self, key: str) -> AccessToken | None:
        entry = self._read_all().get(key)
        if not isinstance(entry, dict):
            return None
        value = entry.get("access_token")
        expires_at = entry.get("expires_at")
        refresh_at = entry.get("refresh_at")
        if (
            not isinstance(value, str)
            or not value
            or not isinstance(expires_at, int | float)
            or not isinstance(refresh_at, int | float)
        ):
            return None
        return AccessToken(value=value, expires_at=float(expires_at), refresh_at=float(refresh_at))

    def store(self, key: str, token: AccessToken) -> None:
        now = self._clock()
        data = {
            k: v
            for k, v in self._read_all().items()
            if isinstance(v, dict)
            and isinstance(v.get("expires_at"), int | float)
            and v["expires_at"] > now
        }
        data[key] = {
            "access_token": token.value,
            "expires_at": token.expires_at,
            "refresh_at": token.refresh_at,
        }
        try:
            _write_private(self.path, json.dumps(data, indent=1, sort_keys=True))
        except OSError as exc:
            # the token still works from memory; only the next run pays a gettoken
            log.warning("cannot write token cache %s: %s", self.path, exc.strerror)


def _write_private(path: Path, text: str) -> None:
    """Write `text` to `path` atomically, readable by the owner only."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


Fetch = Callable[[], Awaitable[tuple[str, float]]]


class TokenManager:
    """Hands out a valid token; `fetch` returns (token, expires_in seconds)."""

    def __init__(
        self,
        *,
        key: str,
        fetch: Fetch,
        cache: TokenCache | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = key
        self._fetch = fetch
        self._cache = cache
        self._clock = clock
        self._token: AccessToken | None = None
        self._lock = asyncio.Lock()
        self._cache_read = False
        self.fetches = 0  #: gettoken calls that returned a token

    def __repr__(self) -> str:
        return f"TokenManager(key={self._key!r}, cached={self._token is not None})"

    async def get(self, *, force: bool = False) -> str:
        """A token that is not due for refresh; fetch one if needed (or if `force`)."""
        token = self._token
        if not force and token is not None and token.fresh(self._clock()):
            return token.value
        async with self._lock:
            # someone else may have fetched it while we waited for the lock
            token = self._token
            if not force and token is not None and token.fresh(self._clock()):
                return token.value
            if not force and not self._cache_read and self._cache is not None:
                self._cache_read = True
                cached = self._cache.load(self._key)
                if cached is not None and cached.fresh(self._clock()):
                    register_secret(cached.value)
                    self._token = cached
                    return cached.value
            return await self._renew()

    async def refresh(self, stale: str) -> str:
        """A token other than `stale`, which WeCom just refused.

        Many calls can fail with the same stale token at once; only the first
        one to get here fetches, the others get its result.
        """
        async with self._lock:
            token = self._token
            if token is not None and token.value != stale and token.fresh(self._clock()):
                return token.value
            return await self._renew()

    async def _renew(self) -> str:
        self._token = None
        now = self._clock()
        value, expires_in = await self._fetch()
        register_secret(value)
        token = AccessToken.issued(value, expires_in, now)
        self._token = token
        self.fetches += 1
        if self._cache is not None:
            self._cache.store(self._key, token)
        log.debug("fetched a new access token, valid for %d s", int(expires_in))
        return token.value
