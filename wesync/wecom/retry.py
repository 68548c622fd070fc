"""When and how long to wait before sending a failed request again.

Exponential backoff with full jitter (a uniform wait between 0 and
base * 2**n, capped), bounded both in attempts and in total time, so that a
WeCom outage makes a sync fail in about a minute instead of hanging.

Which failures are worth another attempt is decided by the client
(wesync.wecom.client): busy, rate limited, HTTP 5xx, timeouts and lost
connections, and never a write that may already have been applied.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    attempts: int = 5  #: tries in all, the first one included
    total: float = 60.0  #: seconds from the first try after which no new try starts
    base: float = 0.5  #: seconds; the cap of the first wait
    cap: float = 20.0  #: seconds; no single wait is longer
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)
    random: Callable[[], float] = field(default=random.random, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryPolicy.attempts must be at least 1")
        if self.total < 0 or self.base < 0 or self.cap < 0:
            raise ValueError("RetryPolicy times must not be negative")

    def backoff(self, failures: int) -> float:
        """The wait after the `failures`-th failed try (1 for the first)."""
        ceiling = min(self.cap, self.base * (2 ** max(failures - 1, 0)))
        return float(self.random() * ceiling)

    def start(self) -> RetryState:
        return RetryState(self)


@dataclass
class RetryState:
    """The bookkeeping of one request's tries."""

    policy: RetryPolicy
    failures: int = 0
    started: float = field(init=False)

    def __post_init__(self) -> None:
        self.started = self.policy.clock()

    async def wait(self) -> bool:
        """Count one failure; sleep and return True if another try is allowed."""
        self.failures += 1
        if self.failures >= self.policy.attempts:
            return False
        delay = self.policy.backoff(self.failures)
        elapsed = self.policy.clock() - self.started
        if elapsed + delay > self.policy.total:
            return False
        await self.policy.sleep(delay)
        return True


#: For tests and benchmarks: every try at once, no waiting.
NO_WAIT = RetryPolicy(base=0.0, cap=0.0)
