"""Build the WeCom client a config asks for: real HTTP, or the in-process emulator."""

from __future__ import annotations

from pathlib import Path

from wesync.config import Backend, Config, resolve_secret
from wesync.wecom.client import WeComClient
from wesync.wecom.retry import RetryPolicy

#: base URL of the in-process emulator; never resolved, the transport answers
EMULATOR_BASE_URL = "http://emulator.invalid"
TOKEN_CACHE_NAME = "token.json"


def open_client(config: Config, *, retry: RetryPolicy | None = None) -> WeComClient:
    """A client for `config.wecom`, caching its token in the state directory.

    Raises ConfigError when the secret cannot be found or read.
    """
    wecom = config.wecom
    secret = resolve_secret(wecom)
    # first: it makes the state directory private (0700) before the emulator writes there
    token_cache = _token_cache_path(config.state_dir)
    base_url = wecom.base_url
    transport = None
    if wecom.backend is Backend.EMULATOR:
        # imported late: only this backend needs the emulator's code
        from wesync.emulator.inprocess import make_transport
        from wesync.emulator.variants import Variants

        state_path = wecom.emulator_state or config.state_dir / "wecom-emulator.json"
        transport = make_transport(
            state_path=state_path, corpid=wecom.corpid, corpsecret=secret.reveal(),
            variants=Variants().with_changes(dict(wecom.emulator_variants)),
        )
        base_url = EMULATOR_BASE_URL
    return WeComClient(
        corpid=wecom.corpid,
        corpsecret=secret,
        base_url=base_url,
        transport=transport,
        rate_limit=wecom.rate_limit,
        max_concurrency=wecom.max_concurrency,
        timeout=wecom.timeout,
        token_cache=token_cache,
        retry=retry,
    )


def _token_cache_path(state_dir: Path) -> Path:
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    return state_dir / TOKEN_CACHE_NAME
