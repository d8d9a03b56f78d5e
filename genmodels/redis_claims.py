"""Every Redis command a worker sends: taking jobs entries, keeping and settling them.

A jobs entry read by a consumer of the group is *pending* for that consumer until it is
acknowledged, and Redis counts each delivery. `Claims` is one consumer's view:

- `take_idle`: XAUTOCLAIM entries idle longer than ``claim_idle_ms`` (their worker died
  or gave them up), with their delivery count from XPENDING (XAUTOCLAIM counts one);
- `take_new`: XREADGROUP ``>``, a first delivery;
- `refresh`: XCLAIM ... JUSTID to itself, which resets the idle time without counting a
  delivery, so a live worker's entry never looks abandoned;
- `release`: the same with the idle time set past ``claim_idle_ms``, so the next
  XAUTOCLAIM anywhere retries the job at once;
- `settle`: publish the result (and a dead letter), XACK and XDEL, in one step.

`refresh`, `release` and `settle` are Lua scripts that first check with XPENDING that
this consumer still owns the entry. A worker presumed dead (paused past the idle time)
that wakes up never takes the entry back from the worker now running it, and publishes
nothing when it finishes: each job gets one result.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError
from redis.typing import EncodableT

from genmodels.jobs import Progress, Result
from genmodels.redis_streams import (
    UPDATES_MAXLEN,
    Encoded,
    Fields,
    StreamKeys,
    encode_update,
    stream_entries,
)

# KEYS: jobs stream. ARGV: group, entry id, consumer, idle ms. 1 when still ours.
_CLAIM_IF_MINE = """
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #p == 0 or p[1][2] ~= ARGV[3] then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[2], 'IDLE', ARGV[4], 'JUSTID')
return 1
"""
# KEYS: jobs, updates, dead, errors. ARGV: group, entry id, consumer, maxlen, room,
# update JSON ('' for none), then the dead letter's field/value pairs, if any.
_SETTLE_IF_MINE = """
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #p == 0 or p[1][2] ~= ARGV[3] then return 0 end
if ARGV[6] ~= '' then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'room', ARGV[5], 'update', ARGV[6])
end
if #ARGV > 6 then redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', unpack(ARGV, 7)) end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
redis.call('HDEL', KEYS[4], ARGV[2])
return 1
"""


@dataclass(frozen=True, slots=True)
class Taken:
    """A jobs entry this consumer owns, and how many times Redis has delivered it."""

    stream: str
    entry: str
    fields: Fields
    deliveries: int


class Claims:
    """One consumer's commands on the jobs streams (see the module doc)."""

    def __init__(
        self, redis: Redis, keys: StreamKeys, consumer: str, streams: list[str], claim_idle_ms: int
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._consumer = consumer
        self._streams = streams
        self._claim_idle_ms = claim_idle_ms
        self._cursors = dict.fromkeys(streams, "0-0")  # XAUTOCLAIM scans the PEL in steps
        self._claim_script = redis.register_script(_CLAIM_IF_MINE)
        self._settle_script = redis.register_script(_SETTLE_IF_MINE)

    async def take_idle(self, most: int) -> list[Taken]:
        taken: list[Taken] = []
        for stream in self._streams:
            if len(taken) >= most:
                break
            cursor, claimed, _deleted = await self._redis.xautoclaim(
                stream,
                self._keys.group,
                self._consumer,
                self._claim_idle_ms,
                self._cursors[stream],
                count=most - len(taken),
            )
            self._cursors[stream] = cursor
            for entry, fields in claimed:
                pending = await self._redis.xpending_range(
                    stream, self._keys.group, min=entry, max=entry, count=1
                )
                if pending:  # (else acknowledged in between by its earlier owner)
                    deliveries = int(pending[0]["times_delivered"])
                    taken.append(Taken(stream, entry, fields or {}, deliveries))
        return taken

    async def take_new(self, most: int, block_ms: int) -> list[Taken]:
        """At most ``most`` entries per stream (COUNT applies to each stream)."""
        reply = await self._redis.xreadgroup(
            self._keys.group,
            self._consumer,
            dict.fromkeys(self._streams, ">"),
            count=most,
            block=block_ms,
        )
        return [Taken(s, entry, fields, 1) for s, (entry, fields) in stream_entries(reply)]

    async def refresh(self, taken: Taken) -> bool:
        """Reset ``taken``'s idle time; False when another consumer owns it now."""
        return await self._claim(taken, 0)

    async def release(self, taken: Taken) -> None:
        await self._claim(taken, self._claim_idle_ms * 2)

    async def _claim(self, taken: Taken, idle_ms: int) -> bool:
        args: list[EncodableT] = [self._keys.group, taken.entry, self._consumer, idle_ms]
        return bool(await self._claim_script(keys=[taken.stream], args=args))

    async def record_error(self, taken: Taken, error: str) -> None:
        await self._redis.hset(self._keys.errors, taken.entry, error[:500])

    async def last_error(self, taken: Taken) -> str | None:
        error = await self._redis.hget(self._keys.errors, taken.entry)
        return None if error is None else str(error)

    async def settle(self, taken: Taken, result: Result | None, dead_reason: str = "") -> bool:
        """Publish ``result`` (and a dead letter when a reason is given), acknowledge.

        Returns:
            False, doing nothing, when another consumer owns the entry now.
        """
        update: Encoded = encode_update(result) if result else {"room": "", "update": ""}
        args: list[EncodableT] = [self._keys.group, taken.entry, self._consumer, UPDATES_MAXLEN]
        args += [update["room"], update["update"]]
        if dead_reason:
            args += ["job", taken.fields.get("job", ""), "reason", dead_reason]
            args += ["deliveries", taken.deliveries, "stream", taken.stream]
            args += ["entry", taken.entry, "worker", self._consumer]
        keys = [taken.stream, self._keys.updates, self._keys.dead, self._keys.errors]
        return bool(await self._settle_script(keys=keys, args=args))

    async def publish(self, progress: Progress) -> None:
        await self._redis.xadd(
            self._keys.updates, encode_update(progress), maxlen=UPDATES_MAXLEN, approximate=True
        )

    async def leave(self) -> None:
        """Leave the group, unless entries are still pending for this consumer.

        (XGROUP DELCONSUMER drops a consumer's pending entries: those jobs would be lost.)
        """
        try:
            for stream in self._streams:
                mine = await self._redis.xpending_range(
                    stream, self._keys.group, "-", "+", 1, consumername=self._consumer
                )
                if not mine:
                    await self._redis.xgroup_delconsumer(stream, self._keys.group, self._consumer)
        except RedisError:
            pass  # a consumer left behind holds nothing and costs a few bytes


__all__ = ["Claims", "Taken"]
