"""The rate limit: a token bucket of capacity one, shared by every concurrent fetch to a host.

Requests wait their turn (in the order asked) for slots ``1/rate`` seconds apart. A request
that leaves late by less than half an interval (the event loop's timers overshoot by a
millisecond or two; on a busy machine by more) keeps its slot, so that the pace holds on
average (1,000 requests at 20 a second take 50 s, not 52); one later than that (the loop was
busy parsing a large page) starts the count afresh from the moment it leaves, so the waiting
requests do not catch up in a burst. Either way any window of one second holds at most
``rate + 1`` requests: each leaves within half an interval after its slot, and slots are one
interval apart, so ``n + 2`` requests always span more than ``n`` intervals plus a half. A capacity of one (no bursts) is the polite choice for a government
portal, which is often a small server behind a slow link.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class Pacer:
    """Lets requests go at most ``rate`` per second (see the module docstring)."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._last = float("-inf")
        self._lock = asyncio.Lock()

    def slow_to(self, rate: float) -> None:
        """Never faster than ``rate`` from now on (a robots.txt ``Crawl-delay``)."""
        self.interval = max(self.interval, 1.0 / rate)

    async def wait(self) -> None:
        """Return when this request may leave."""
        async with self._lock:
            slot = self._last + self.interval
            delay = slot - self._clock()
            if delay > 0:
                await self._sleep(delay)
            now = self._clock()
            self._last = slot if now - slot <= self.interval / 2 else now
