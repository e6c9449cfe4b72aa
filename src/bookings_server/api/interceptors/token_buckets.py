"""Token buckets keyed by site: the arithmetic of the per-site rate limits.

A bucket holds up to `burst` tokens and gains `rate` tokens a second; a call takes one. A
site's bucket is created full at its first call and forgotten once it is full again (a full
bucket and a fresh one are the same), so memory follows the sites active in the last minute.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

#: Seconds between passes that forget the buckets that are full again.
_SWEEP_INTERVAL = 60.0


@dataclass(frozen=True)
class Limit:
    """`rate` tokens a second, at most `burst` at once."""

    rate: float
    burst: int

    @classmethod
    def per_second(cls, rate: float, burst: int) -> Limit | None:
        """The limit for the flags: None (no limit) when `rate` is 0; a `burst` of 0 means one
        second's worth of tokens (the rate rounded up, at least 1)."""
        if rate <= 0:
            return None
        return cls(rate, burst if burst > 0 else max(1, math.ceil(rate)))


class TokenBuckets:
    """One bucket per key; safe to use from every server thread."""

    def __init__(self, limit: Limit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._lock = threading.Lock()
        #: key -> (tokens, monotonic time they were counted at)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._next_sweep = clock() + _SWEEP_INTERVAL

    def take(self, key: str) -> float:
        """Take a token from `key`'s bucket: 0.0 when one was taken, else the seconds until
        one will be there (nothing is taken then)."""
        with self._lock:
            now = self._clock()
            self._sweep(now)
            tokens = self._tokens(key, now)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.limit.rate

    def tracked(self) -> int:
        """How many buckets are kept (the others are full)."""
        with self._lock:
            return len(self._buckets)

    def _tokens(self, key: str, now: float) -> float:
        tokens, counted_at = self._buckets.get(key, (float(self.limit.burst), now))
        return min(float(self.limit.burst), tokens + (now - counted_at) * self.limit.rate)

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + _SWEEP_INTERVAL
        full = [key for key in self._buckets if self._tokens(key, now) >= self.limit.burst]
        for key in full:
            del self._buckets[key]
