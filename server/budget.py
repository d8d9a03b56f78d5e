"""Each address's budget of failed attempts (wrong room codes, bad tokens).

`Door` (`server.admission`) spends it and refuses an address that spent it all. In one
process the budget is a `KeyedLimiter` in memory (`LocalBudget`); in a cluster every
node must see the same budget, or a sweep of the code space would simply go round the
nodes: `RedisBudget` keeps each address's token bucket in Redis, refilled by Redis's own
clock in one Lua script, so every node spends from one bucket.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Protocol

from server.ratelimit import KeyedLimiter

if TYPE_CHECKING:  # a cluster's budget only: a single process never loads redis for it
    from redis.asyncio import Redis


class Budget(Protocol):
    async def blocked(self, address: str, now: float) -> bool:
        """Whether ``address`` has no attempt left (without spending one)."""
        ...

    async def take(self, address: str, now: float) -> None:
        """Spend one of ``address``'s attempts (a failed one)."""
        ...


class LocalBudget:
    """The budget of a single process: one bucket per address, in memory."""

    def __init__(self, limiter: KeyedLimiter) -> None:
        self.limiter = limiter

    async def blocked(self, address: str, now: float) -> bool:
        return self.limiter.blocked(address, now)

    async def take(self, address: str, now: float) -> None:
        self.limiter.take(address, now)


_BUCKET = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
if ARGV[3] == '1' and tokens >= 1 then tokens = tokens - 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if tokens < 1 then return 1 end
return 0
"""


class RedisBudget:
    """One bucket per address in Redis (``PREFIX:fail:ADDRESS``), shared by every node."""

    def __init__(self, redis: Redis, prefix: str, *, rate: float, burst: float) -> None:
        self._key = f"{prefix}:fail:"
        self.rate, self.burst = rate, burst
        self._script = redis.register_script(_BUCKET)
        # A bucket refills in burst / rate seconds: kept that long after its last use.
        self._ttl_ms = math.ceil(burst / rate * 1000) + 1000

    async def blocked(self, address: str, now: float) -> bool:
        return await self._run(address, take=False)

    async def take(self, address: str, now: float) -> None:
        await self._run(address, take=True)

    async def _run(self, address: str, *, take: bool) -> bool:
        args = [self.rate, self.burst, "1" if take else "0", self._ttl_ms]
        return bool(await self._script(keys=[self._key + address], args=args))


__all__ = ["Budget", "LocalBudget", "RedisBudget"]
