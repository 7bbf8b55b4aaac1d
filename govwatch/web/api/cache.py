"""Short-lived, per-app caches for what every request reads: who is asking, dashboard figures.

A page at a million cases is cheap only if the same aggregate is not recomputed by twenty
clients at once. :class:`TTLCache` keeps a value for a few seconds, computes a missing key once
while concurrent callers of the same key wait for it (no thundering herd), and is emptied by
:meth:`TTLCache.invalidate` — the app calls it after every request that may change data
(``POST``/``PUT``/``PATCH``/``DELETE``), so a user who acts on an alert sees the effect on the
next page. Writes that bypass this app (another process on PostgreSQL, the sweeper thread) show
up at most ``ttl`` seconds later. A value computed while an invalidation happened is not kept.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

V = TypeVar("V")


@dataclass
class TTLCache(Generic[V]):
    """Values by key for ``ttl`` seconds (``ttl`` ≤ 0 turns the cache off)."""

    ttl: float
    max_entries: int = 512
    _entries: dict[Hashable, tuple[float, V]] = field(default_factory=dict, repr=False)
    _computing: dict[Hashable, threading.Lock] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _generation: int = field(default=0, repr=False)

    def _fresh(self, key: Hashable, now: float) -> tuple[bool, V | None]:
        hit = self._entries.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            return True, hit[1]
        return False, None

    def peek(self, key: Hashable) -> V | None:
        """The cached value of ``key`` if one is fresh, else None (nothing is computed)."""
        if self.ttl <= 0:
            return None
        with self._lock:
            return self._fresh(key, time.monotonic())[1]

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The cached value of ``key``, or ``compute()`` run once for all concurrent callers."""
        if self.ttl <= 0:
            return compute()
        with self._lock:
            found, value = self._fresh(key, time.monotonic())
            if found:
                return value  # type: ignore[return-value]
            key_lock = self._computing.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                started = time.monotonic()
                found, value = self._fresh(key, started)
                if found:
                    return value  # type: ignore[return-value]
                generation = self._generation
            try:
                computed = compute()
            except BaseException:
                with self._lock:
                    self._computing.pop(key, None)
                raise
            with self._lock:
                if generation == self._generation:
                    if len(self._entries) >= self.max_entries:
                        self._evict(time.monotonic())
                    self._entries[key] = (started, computed)
                self._computing.pop(key, None)
            return computed

    def _evict(self, now: float) -> None:
        for key in [k for k, (at, _) in self._entries.items() if now - at >= self.ttl]:
            del self._entries[key]
        if len(self._entries) >= self.max_entries:
            self._entries.clear()

    def invalidate(self) -> None:
        """Forget every value, including those being computed right now."""
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
