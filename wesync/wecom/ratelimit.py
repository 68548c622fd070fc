"""Keep a big sync under WeCom's quota: calls per minute per endpoint, and
requests in flight at once.

WeCom counts calls per API per company per minute (10,000) and blocks the
API for the rest of the window when that is exceeded (45009), so waiting a
little here is much cheaper than being blocked there. A sliding window of
call times guarantees that no 60-second span, and hence no calendar minute,
holds more than `rate` calls to one endpoint.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager


class RateLimiter:
    """At most `rate` calls to each endpoint in any `period` seconds."""

    def __init__(
        self,
        rate: int,
        *,
        period: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate < 1:
            raise ValueError("rate must be at least 1 call per period")
        if period <= 0:
            raise ValueError("period must be positive")
        self.rate = rate
        self.period = period
        self._clock = clock
        self._sleep = sleep
        self._windows: defaultdict[str, deque[float]] = defaultdict(deque)
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.waits = 0  #: how many calls had to wait for the window
        self.waited = 0.0  #: seconds spent waiting, in all

    async def acquire(self, endpoint: str) -> None:
        """Return when one more call to `endpoint` fits in the window, and count it."""
        # One lock per endpoint makes waiters take their turns in arrival order.
        async with self._locks[endpoint]:
            window = self._windows[endpoint]
            while True:
                now = self._clock()
                horizon = now - self.period
                while window and window[0] <= horizon:
                    window.popleft()
                if len(window) < self.rate:
                    window.append(now)
                    return
                delay = window[0] - horizon
                self.waits += 1
                self.waited += delay
                await self._sleep(delay)

    def in_window(self, endpoint: str) -> int:
        """Calls to `endpoint` counted in the current window."""
        now = self._clock()
        return sum(1 for t in self._windows.get(endpoint, ()) if t > now - self.period)


class Throttle:
    """One semaphore over all requests plus the rate limiter per endpoint; a call
    is counted by the limiter once it holds its slot, right before it is sent."""

    def __init__(self, limiter: RateLimiter, max_concurrency: int) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.limiter = limiter
        self.max_concurrency = max_concurrency
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self.in_flight = 0
        self.peak_in_flight = 0

    @asynccontextmanager
    async def slot(self, endpoint: str) -> AsyncIterator[None]:
        # The request slot is taken first and the quota second, so that a call is
        # counted when it is sent: counted first, it could wait for a slot and
        # go out together with calls counted a window later, and WeCom's minute
        # would then see more than the limit. The price: a call waiting for its
        # endpoint's quota holds a slot other endpoints could have used.
        async with self._semaphore:
            await self.limiter.acquire(endpoint)
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                yield
            finally:
                self.in_flight -= 1
