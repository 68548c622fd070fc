"""A fake clock for the rate limiter and retry tests."""

from __future__ import annotations

import asyncio


class FakeTime:
    """A clock that moves only by the sleeps asked of it; each sleep is recorded
    and lets the other tasks run once."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)
