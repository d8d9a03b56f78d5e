"""Room ownership in Redis: a lease with a fencing epoch, and broadcasting only under it.

Keys (``PREFIX`` is ``KINOROOM_CLUSTER_PREFIX``; the ``{CODE}`` hash tag keeps a room's
keys in one Redis Cluster slot, as the scripts need):

=============================  ===============================================================
``PREFIX:room:{CODE}:owner``   ``"NODE EPOCH"`` of the owner, expiring unless renewed
``PREFIX:room:{CODE}:epoch``   the last epoch handed out (only ever grows)
``PREFIX:room:{CODE}:in``      the inbound stream: what pages said, for the owner
``PREFIX:room:{CODE}:out``     the outbound stream: the owner's broadcasts
``PREFIX:room:{CODE}:summary`` the room's summary as the owner last broadcast it
``PREFIX:room:{CODE}:roster``  who is here and who voted, for a host's roster anywhere
``PREFIX:node:NODE``           a process's heartbeat (`server.cluster.nodes`)
=============================  ===============================================================

Every check-and-set is one Lua script, so it is atomic in Redis: taking a free lease with
a new epoch (never below the database's, so an epoch survives a Redis that forgot
everything), renewing or releasing it only as its holder, and appending a broadcast only
while the lease still names the broadcaster: an owner that lost its lease (a long pause,
a partition) can neither broadcast here nor commit in the database (`Fence`).
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

_ACQUIRE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local epoch = redis.call('INCR', KEYS[2])
local floor = tonumber(ARGV[3])
if epoch < floor then
  epoch = floor
  redis.call('SET', KEYS[2], epoch)
end
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. epoch, 'PX', ARGV[2])
return epoch
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_PUBLISH = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end
if ARGV[4] ~= '' then redis.call('SET', KEYS[3], ARGV[4]) end
return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'b', ARGV[3])
"""
OUT_MAXLEN = 10_000  # broadcasts kept per room: a process this far behind resyncs


@dataclass(frozen=True, slots=True)
class Keys:
    prefix: str

    def room(self, code: str, what: str) -> str:
        return f"{self.prefix}:room:{{{code}}}:{what}"

    def node(self, node: str) -> str:
        return f"{self.prefix}:node:{node}"

    def nodes(self) -> str:
        """The pattern of every node's heartbeat key."""
        return f"{self.prefix}:node:*"


@dataclass(frozen=True, slots=True)
class Owner:
    node: str
    epoch: int

    @property
    def value(self) -> str:
        return f"{self.node} {self.epoch}"

    @classmethod
    def parse(cls, value: bytes | str | None) -> Owner | None:
        if value is None:
            return None
        text = value.decode() if isinstance(value, bytes) else value
        node, _, epoch = text.rpartition(" ")
        return cls(node, int(epoch)) if node and epoch.isdigit() else None


class Leases:
    """One process's dealings with room leases (``node`` names this process)."""

    def __init__(self, redis: Redis, keys: Keys, node: str, ttl_s: float) -> None:
        self._redis = redis
        self.keys = keys
        self.node = node
        self.ttl_ms = max(1, round(ttl_s * 1000))
        self._acquire = redis.register_script(_ACQUIRE)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)
        self._publish = redis.register_script(_PUBLISH)

    async def acquire(self, code: str, floor: int) -> int | None:
        """Take the room's lease if nobody holds it: the new epoch (at least ``floor``),
        or None when another process holds it."""
        keys = [self.keys.room(code, "owner"), self.keys.room(code, "epoch")]
        epoch = await self._acquire(keys=keys, args=[self.node, self.ttl_ms, floor])
        return int(epoch) or None

    async def renew(self, code: str, epoch: int) -> bool:
        """Extend the lease; False when this process no longer holds it."""
        owner = Owner(self.node, epoch).value
        keys = [self.keys.room(code, "owner")]
        return bool(await self._renew(keys=keys, args=[owner, self.ttl_ms]))

    async def release(self, code: str, epoch: int) -> None:
        """Give the lease up now (a peer takes the room over without waiting for it to
        expire)."""
        owner = Owner(self.node, epoch).value
        await self._release(keys=[self.keys.room(code, "owner")], args=[owner])

    async def owner(self, code: str) -> Owner | None:
        return Owner.parse(await self._redis.get(self.keys.room(code, "owner")))

    async def publish(self, code: str, epoch: int, broadcast: str, summary: str = "") -> bool:
        """Append a broadcast (and store the summary, if given) while this process holds
        the room's lease of ``epoch``; False when it does not."""
        keys = [
            self.keys.room(code, "owner"),
            self.keys.room(code, "out"),
            self.keys.room(code, "summary"),
        ]
        owner = Owner(self.node, epoch).value
        added = await self._publish(keys=keys, args=[owner, OUT_MAXLEN, broadcast, summary])
        return added is not None


__all__ = ["OUT_MAXLEN", "Keys", "Leases", "Owner"]
