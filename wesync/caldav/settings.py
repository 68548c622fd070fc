"""`[pairs.caldav]`: a CalDAV collection as a pair's iCalendar side, and its password.

The password follows the corpsecret's rules (wesync.config): it is a Secret,
never shown; a systemd credential, a file or the environment come before the
config file, and a config file that holds one and is readable by others warns.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from wesync.config import Secret, Table, parse_duration, read_secret_file, resolve_path
from wesync.errors import ConfigError

if TYPE_CHECKING:
    from wesync.config import PairConfig


@dataclass(frozen=True, kw_only=True)
class CalDavConfig:
    """`[pairs.caldav]`: a CalDAV calendar collection as the pair's iCalendar side."""

    url: str  #: the collection, ending in "/"
    username: str | None = None
    password: Secret | None = field(default=None, repr=False)
    password_file: Path | None = None
    verify: bool | Path = True  #: TLS verification, or the CA bundle to trust
    timeout: float = 30.0  #: seconds per HTTP request
    origin: str = "[pairs.caldav]"  #: where this table came from, for error messages


def parse_caldav(raw: Mapping[str, Any], base: Path, where: str) -> CalDavConfig:
    t = Table(raw, where)
    url = t.text("url", required=True)
    assert url is not None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"'url' must be an http(s):// URL, not {url!r}", where=where)
    if parts.username is not None or parts.password is not None:
        raise ConfigError(
            "'url' must not hold credentials: use 'username' and 'password_file'", where=where
        )
    username = t.text("username")
    password = t.text("password")
    password_file = t.text("password_file")
    verify_raw = t.raw("verify")
    verify: bool | Path = True
    if isinstance(verify_raw, bool):
        verify = verify_raw
    elif isinstance(verify_raw, str) and verify_raw.strip():
        verify = resolve_path(base, verify_raw)
        if not verify.is_file():
            raise ConfigError(f"'verify': no CA bundle at {verify}", where=where)
    elif verify_raw is not None:
        raise ConfigError(
            f"'verify' must be true, false or the path of a CA bundle, not {verify_raw!r}",
            where=where,
        )
    timeout = t.raw("timeout")
    t.finish()
    if (password is not None or password_file is not None) and username is None:
        raise ConfigError("a password needs a 'username'", where=where)
    return CalDavConfig(
        url=url if url.endswith("/") else url + "/",
        username=username,
        password=Secret(password) if password is not None else None,
        password_file=resolve_path(base, password_file) if password_file else None,
        verify=verify,
        timeout=parse_duration(timeout, where=f"{where} timeout") if timeout is not None else 30.0,
        origin=where,
    )


def resolve_caldav_password(
    pair: PairConfig, env: Mapping[str, str] | None = None
) -> Secret | None:
    """A CalDAV pair's password: the systemd credential caldav-<pair>, password_file,
    $WESYNC_CALDAV_PASSWORD, then the config. None for a server without a username.

    Raises ConfigError when a username has no password or a named file cannot be read.
    """
    cfg = pair.caldav
    if cfg is None or cfg.username is None:
        return None
    env = os.environ if env is None else env
    cred_dir = env.get("CREDENTIALS_DIRECTORY")
    if cred_dir:
        cred = Path(cred_dir) / f"caldav-{pair.name}"
        if cred.is_file():
            return Secret(read_secret_file(cred))
    if cfg.password_file is not None:
        return Secret(read_secret_file(cfg.password_file))
    if env.get("WESYNC_CALDAV_PASSWORD"):
        return Secret(env["WESYNC_CALDAV_PASSWORD"])
    if cfg.password is not None:
        return cfg.password
    raise ConfigError(
        "no CalDAV password: set password_file, $WESYNC_CALDAV_PASSWORD, password, "
        f"or a systemd credential named caldav-{pair.name}",
        where=cfg.origin,
    )
