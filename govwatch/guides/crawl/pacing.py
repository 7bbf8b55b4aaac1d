"""The rate limit: a token bucket of capacity one, shared by every concurrent fetch to a host.

A request may leave ``1/rate`` seconds after the previous one left, and waits its turn (in the
order asked) until then. The previous departure is the moment it really left, not the slot it
was due: when the event loop was busy for a while (parsing a large page), the waiting requests
do not catch up in a burst but go on evenly spaced, so that any window of one second holds at
most ``rate + 1`` of them. A capacity of one (no bursts) is the polite choice for a government
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
            delay = self._last + self.interval - self._clock()
            if delay > 0:
                await self._sleep(delay)
            self._last = self._clock()
