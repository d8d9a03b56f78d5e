"""Token buckets: how many messages a socket, or join attempts an address, may make.

Pure: the caller passes the time. A bucket holds ``burst`` tokens, refills at ``rate``
per second, and each action takes one; `take` says whether there was one.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass


@dataclass(slots=True)
class Bucket:
    rate: float
    burst: float
    tokens: float
    updated: float

    @classmethod
    def full(cls, rate: float, burst: float, now: float) -> Bucket:
        return cls(rate, burst, burst, now)

    def refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def take(self, now: float) -> bool:
        self.refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class KeyedLimiter:
    """One bucket per key (an address), the least recently used forgotten past ``max_keys``."""

    def __init__(self, rate: float, burst: float, max_keys: int = 100_000) -> None:
        self.rate, self.burst, self.max_keys = rate, burst, max_keys
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()

    def blocked(self, key: str, now: float) -> bool:
        """Whether ``key`` has no token left (without taking one)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return False
        bucket.refill(now)
        return bucket.tokens < 1.0

    def take(self, key: str, now: float) -> bool:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = Bucket.full(self.rate, self.burst, now)
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket.take(now)


__all__ = ["Bucket", "KeyedLimiter"]
