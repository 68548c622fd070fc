"""Backoff: full jitter, capped, bounded in attempts and in total time."""

from __future__ import annotations

from typing import Any

import pytest

from tests.wecom.fakes import FakeTime
from wesync.wecom.retry import RetryPolicy


def policy(fake: FakeTime, **kw: Any) -> RetryPolicy:
    return RetryPolicy(sleep=fake.sleep, clock=fake.clock, random=lambda: 1.0, **kw)


def test_backoff_doubles_up_to_the_cap() -> None:
    p = RetryPolicy(base=0.5, cap=3.0, random=lambda: 1.0)
    assert [p.backoff(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_full_jitter_scales_the_ceiling() -> None:
    p = RetryPolicy(base=1.0, cap=100.0, random=lambda: 0.25)
    assert p.backoff(3) == pytest.approx(1.0)
    assert RetryPolicy(random=lambda: 0.0).backoff(4) == 0.0


async def test_attempts_bound_the_tries() -> None:
    fake = FakeTime(0.0)
    state = policy(fake, attempts=4, base=1.0, cap=10.0, total=1000.0).start()
    results = [await state.wait() for _ in range(5)]
    assert results == [True, True, True, False, False]
    assert fake.sleeps == [1.0, 2.0, 4.0]


async def test_total_time_bounds_the_tries() -> None:
    fake = FakeTime(0.0)
    state = policy(fake, attempts=100, base=4.0, cap=4.0, total=10.0).start()
    assert await state.wait()  # t=4
    assert await state.wait()  # t=8
    assert not await state.wait()  # 8 + 4 > 10: give up without sleeping
    assert fake.sleeps == [4.0, 4.0]


def test_nonsense_is_refused() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(base=-1.0)
