"""The token: fetched once however many ask, refreshed early, cached on disk privately."""

from __future__ import annotations

import asyncio
import json
import logging
import stat
from pathlib import Path

import pytest

from wesync.config import Secret
from wesync.wecom.token import AccessToken, TokenCache, TokenManager, cache_key

SECRET = Secret("the-corp-secret-value")


class Issuer:
    """Stands in for gettoken: hands out numbered tokens."""

    def __init__(self, expires_in: float = 7200.0) -> None:
        self.calls = 0
        self.expires_in = expires_in

    async def __call__(self) -> tuple[str, float]:
        self.calls += 1
        await asyncio.sleep(0.01)  # let other callers pile up behind the lock
        return f"token-number-{self.calls:04d}", self.expires_in


class Clock:
    def __init__(self, now: float = 1_767_225_600.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def manager(
    issuer: Issuer, clock: Clock, cache: Path | None = None, key: str = "k"
) -> TokenManager:
    return TokenManager(
        key=key,
        fetch=issuer,
        clock=clock,
        cache=TokenCache(cache, clock=clock) if cache else None,
    )


async def test_many_first_callers_fetch_once() -> None:
    issuer = Issuer()
    tokens = manager(issuer, Clock())
    got = await asyncio.gather(*(tokens.get() for _ in range(50)))
    assert set(got) == {"token-number-0001"}
    assert issuer.calls == 1
    assert tokens.fetches == 1


async def test_refreshed_shortly_before_expiry() -> None:
    issuer, clock = Issuer(7200), Clock()
    tokens = manager(issuer, clock)
    assert await tokens.get() == "token-number-0001"
    clock.now += 7200 - 301
    assert await tokens.get() == "token-number-0001"
    clock.now += 2  # inside the last five minutes
    assert await tokens.get() == "token-number-0002"


def test_short_lived_tokens_refresh_at_ninety_percent() -> None:
    token = AccessToken.issued("t", 100, now=0)
    assert token.expires_at == 100
    assert token.refresh_at == 90
    assert token.fresh(89.9)
    assert not token.fresh(90)


async def test_refresh_of_a_stale_token_fetches_once_for_all() -> None:
    issuer = Issuer()
    tokens = manager(issuer, Clock())
    stale = await tokens.get()
    new = await asyncio.gather(*(tokens.refresh(stale) for _ in range(20)))
    assert set(new) == {"token-number-0002"}
    assert issuer.calls == 2
    # a refresh asked with an already replaced token does not fetch again
    assert await tokens.refresh(stale) == "token-number-0002"
    assert issuer.calls == 2


async def test_force_fetches_even_with_a_fresh_token() -> None:
    issuer = Issuer()
    tokens = manager(issuer, Clock())
    await tokens.get()
    assert await tokens.get(force=True) == "token-number-0002"


async def test_cache_file_is_private_and_holds_no_secret(tmp_path: Path) -> None:
    path = tmp_path / "state" / "token.json"
    key = cache_key("https://qyapi.weixin.qq.com", "wwcorp", SECRET)
    assert SECRET.reveal() not in key
    issuer, clock = Issuer(), Clock()
    await manager(issuer, clock, path, key).get()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert SECRET.reveal() not in text
    entry = json.loads(text)[key]
    assert entry["access_token"] == "token-number-0001"
    assert entry["expires_at"] == clock.now + 7200
    assert list(path.parent.iterdir()) == [path]  # no temp file left behind

    # a second process with the same app uses the cached token
    other = Issuer()
    assert await manager(other, clock, path, key).get() == "token-number-0001"
    assert other.calls == 0


async def test_cache_is_per_app_and_ignores_expired_entries(tmp_path: Path) -> None:
    path = tmp_path / "token.json"
    clock = Clock()
    key_a = cache_key("https://qyapi.weixin.qq.com", "wwcorp", SECRET)
    key_b = cache_key("https://qyapi.weixin.qq.com", "wwcorp", Secret("another-app-secret"))
    key_c = cache_key("http://127.0.0.1:8765", "wwcorp", SECRET)
    assert len({key_a, key_b, key_c}) == 3
    await manager(Issuer(), clock, path, key_a).get()
    b = Issuer()
    await manager(b, clock, path, key_b).get()
    assert b.calls == 1
    assert set(json.loads(path.read_text())) == {key_a, key_b}

    clock.now += 7200 - 100  # due for refresh
    late = Issuer()
    await manager(late, clock, path, key_a).get()
    assert late.calls == 1


@pytest.mark.parametrize(
    "garbage",
    ["", "{not json", "[1, 2]", '{"k": "a string"}', '{"k": {"access_token": 5}}'],
)
async def test_corrupt_cache_is_ignored_and_replaced(
    tmp_path: Path, garbage: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "token.json"
    path.write_text(garbage)
    issuer = Issuer()
    with caplog.at_level(logging.WARNING):
        assert await manager(issuer, Clock(), path).get() == "token-number-0001"
    assert issuer.calls == 1
    assert json.loads(path.read_text())["k"]["access_token"] == "token-number-0001"


async def test_unwritable_cache_only_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    issuer = Issuer()
    tokens = manager(issuer, Clock(), blocker / "token.json")
    with caplog.at_level(logging.WARNING):
        assert await tokens.get() == "token-number-0001"
        assert await tokens.get() == "token-number-0001"
    assert issuer.calls == 1
    assert "cannot write token cache" in caplog.text
    assert "token-number" not in caplog.text


def test_repr_shows_no_token() -> None:
    tokens = TokenManager(key="k", fetch=Issuer())
    assert "token-number" not in repr(tokens)
    assert "token-number" not in repr(AccessToken.issued("token-number-9", 10, 0))
