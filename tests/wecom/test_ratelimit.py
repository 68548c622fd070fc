"""The rate limiter spaces calls per endpoint; the throttle caps requests in flight."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.wecom.fakes import FakeTime
from wesync.wecom.ratelimit import RateLimiter, Throttle


def max_in_any_window(stamps: list[float], period: float) -> int:
    return max(sum(1 for s in stamps if t - period < s <= t) for t in stamps)


async def test_sequential_calls_wait_for_the_window() -> None:
    fake = FakeTime()
    limiter = RateLimiter(3, period=60.0, clock=fake.clock, sleep=fake.sleep)
    stamps = []
    for _ in range(7):
        await limiter.acquire("/a")
        stamps.append(fake.now)
    assert [s - 1000.0 for s in stamps] == [0, 0, 0, 60, 60, 60, 120]
    assert max_in_any_window(stamps, 60.0) == 3
    assert limiter.waits == 2
    assert limiter.waited == pytest.approx(120.0)


async def test_concurrent_callers_share_the_window() -> None:
    fake = FakeTime()
    limiter = RateLimiter(4, period=60.0, clock=fake.clock, sleep=fake.sleep)
    stamps: list[float] = []

    async def call() -> None:
        await limiter.acquire("/a")
        stamps.append(fake.now)

    await asyncio.gather(*(call() for _ in range(13)))
    assert len(stamps) == 13
    assert max_in_any_window(stamps, 60.0) == 4
    assert max(stamps) - 1000.0 == 180.0  # 13 calls at 4 a minute need 4 windows


async def test_endpoints_have_separate_windows() -> None:
    fake = FakeTime()
    limiter = RateLimiter(1, period=60.0, clock=fake.clock, sleep=fake.sleep)
    for endpoint in ("/a", "/b", "/c"):
        await limiter.acquire(endpoint)
    assert fake.sleeps == []
    assert limiter.in_window("/a") == 1
    await limiter.acquire("/a")
    assert fake.sleeps == [60.0]
    assert limiter.in_window("/b") == 0  # its call is now a minute old


async def test_throttle_caps_requests_in_flight() -> None:
    throttle = Throttle(RateLimiter(1000), max_concurrency=2)
    release = asyncio.Event()
    entered = 0

    async def hold(endpoint: str) -> None:
        nonlocal entered
        async with throttle.slot(endpoint):
            entered += 1
            await release.wait()

    tasks = [asyncio.create_task(hold(f"/e{i % 3}")) for i in range(6)]
    for _ in range(10):
        await asyncio.sleep(0)
    assert entered == 2
    assert throttle.in_flight == 2
    release.set()
    await asyncio.gather(*tasks)
    assert entered == 6
    assert throttle.in_flight == 0
    assert throttle.peak_in_flight == 2


def test_nonsense_is_refused() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0)
    with pytest.raises(ValueError):
        RateLimiter(5, period=0)
    with pytest.raises(ValueError):
        Throttle(RateLimiter(5), max_concurrency=0)


class SimTime:
    """A clock that moves only when every task waits: sleeps end in time order."""

    def __init__(self) -> None:
        self.now = 1000.0
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._timers.append((self.now + seconds, len(self._timers), future))
        await future

    async def run(self, *coros: Any) -> None:
        tasks = [asyncio.create_task(c) for c in coros]
        while not all(t.done() for t in tasks):
            for _ in range(50):  # let every task run until it waits
                await asyncio.sleep(0)
            pending = [t for t in self._timers if not t[2].done()]
            if not pending:
                continue
            wake = min(pending)
            self.now = max(self.now, wake[0])
            wake[2].set_result(None)
        await asyncio.gather(*tasks)


async def test_a_call_is_counted_when_it_is_sent() -> None:
    # both request slots are busy for 59 s: calls to /a that were counted at once
    # must not go out at 59 s together with the next window's calls at 60 s
    sim = SimTime()
    limiter = RateLimiter(2, period=60.0, clock=sim.clock, sleep=sim.sleep)
    throttle = Throttle(limiter, max_concurrency=2)
    sent: list[float] = []

    async def busy() -> None:
        async with throttle.slot("/b"):
            await sim.sleep(59)

    async def call() -> None:
        async with throttle.slot("/a"):
            sent.append(sim.now)
            assert limiter.in_window("/a") <= 2

    await sim.run(busy(), busy(), *(call() for _ in range(5)))
    assert [s - 1000.0 for s in sent] == [59, 59, 119, 119, 179]
    assert max_in_any_window(sent, 60.0) == 2
    assert throttle.in_flight == 0 and throttle.peak_in_flight == 2
