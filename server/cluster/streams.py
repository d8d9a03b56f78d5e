"""The three Redis loops of a cluster process: pages' items out to the rooms' inbound
streams, the inbound streams of the rooms it owns into their actors, and the outbound
streams of the rooms it holds pages of back to those pages.

Each loop serves every room of the process at once (one multi-stream ``XREAD``, one
pipeline of ``XADD``), so a process with a thousand rooms holds three connections, not
three thousand. A lost Redis is waited for, with a growing pause, and said once in the
log: items queue (then pages are slowed down: the queue is bounded), and the readers go
on from where they were when it returns.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.cluster.leases import Keys
from server.cluster.wire import StreamItem, WireError, decode_broadcast, decode_item, encode_item
from server.rooms.broadcast import Broadcast
from server.rooms.inbox import Inbound

log = logging.getLogger(__name__)

WRITE_BATCH = 512  # items per pipeline round trip
READ_COUNT = 1_000  # entries per stream per XREAD
BLOCK_MS = 50  # how long a reader waits for news before it looks at its rooms again
RETRY_S = (0.05, 0.2, 1.0)  # pauses while Redis cannot be reached


class Outage:
    """Says once that Redis is out of reach, and once that it is back."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.failures = 0

    async def failed(self, exc: BaseException) -> None:
        if self.failures == 0:
            log.warning("redis-unreachable: %s waits (%s)", self.what, exc)
        self.failures += 1
        await asyncio.sleep(RETRY_S[min(self.failures, len(RETRY_S)) - 1])

    def ok(self) -> None:
        if self.failures:
            log.warning("redis-back: %s goes on", self.what)
        self.failures = 0


class StreamInlet:
    """A room's inlet in a cluster: its items go to the process's writer, then Redis."""

    def __init__(self, code: str, queue: asyncio.Queue[tuple[str, Inbound]]) -> None:
        self._code = code
        self._queue = queue

    async def put(self, item: Inbound) -> None:
        await self._queue.put((self._code, item))

    def put_nowait(self, item: Inbound) -> None:
        try:
            self._queue.put_nowait((self._code, item))
        except asyncio.QueueFull:
            log.warning("inbound queue full: %s for %s dropped", type(item).__name__, self._code)


async def write_items(redis: Redis, keys: Keys, queue: asyncio.Queue[tuple[str, Inbound]]) -> None:
    """Append queued items to their rooms' inbound streams, a pipeline at a time."""
    outage = Outage("the inbound writer")
    while True:
        batch = [await queue.get()]
        while len(batch) < WRITE_BATCH and not queue.empty():
            batch.append(queue.get_nowait())
        while True:
            try:
                async with redis.pipeline(transaction=False) as pipe:
                    for code, item in batch:
                        assert not _owner_only(item), "fill-in results stay with the owner"
                        pipe.xadd(keys.room(code, "in"), {"i": encode_item(item)})  # type: ignore[arg-type]
                    await pipe.execute()
                outage.ok()
                break
            except RedisError as exc:
                await outage.failed(exc)


def _owner_only(item: Inbound) -> bool:
    return not isinstance(item, StreamItem)


Deliver = Callable[[str, Inbound, str], Awaitable[None]]


async def read_inbound(
    redis: Redis, keys: Keys, offsets: Callable[[], Mapping[str, str]], deliver: Deliver
) -> None:
    """Feed the owned rooms' actors from their inbound streams.

    ``offsets()`` names every room this process owns now and the last entry its actor
    has (from the database's ``in_offset`` when it took the room over); ``deliver`` puts
    an item, with its entry id, into the room's inbox (waiting when the inbox is full).
    """
    outage = Outage("the inbound reader")
    while True:
        rooms = dict(offsets())
        if not rooms:
            await asyncio.sleep(BLOCK_MS / 1000)
            continue
        streams = {keys.room(code, "in"): offset or "0-0" for code, offset in rooms.items()}
        by_key = {keys.room(code, "in"): code for code in rooms}
        try:
            answer = await _xread(redis, streams)
            outage.ok()
        except RedisError as exc:
            await outage.failed(exc)
            continue
        for key, entries in answer:
            code = by_key[_text(key)]
            for entry, fields in entries:
                try:
                    item = decode_item(fields[b"i"])
                except (KeyError, WireError) as exc:
                    log.error("inbound entry %s of %s skipped: %s", _text(entry), code, exc)
                    continue
                await deliver(code, item, _text(entry))


Receive = Callable[[str, Broadcast], None]


async def read_outbound(
    redis: Redis, keys: Keys, offsets: Callable[[], dict[str, str]], receive: Receive
) -> None:
    """Hand the broadcasts of every room this process holds pages of to its `Room`.

    ``offsets()`` is the live table of rooms and the last entry read of each (updated
    here as entries are read; a room newly held starts from the stream's end then).
    """
    outage = Outage("the broadcast reader")
    while True:
        table = offsets()
        if not table:
            await asyncio.sleep(BLOCK_MS / 1000)
            continue
        streams = {keys.room(code, "out"): offset for code, offset in table.items()}
        by_key = {keys.room(code, "out"): code for code in table}
        try:
            answer = await _xread(redis, streams)
            outage.ok()
        except RedisError as exc:
            await outage.failed(exc)
            continue
        for key, entries in answer:
            code = by_key[_text(key)]
            for entry, fields in entries:
                if code in table:
                    table[code] = _text(entry)
                try:
                    broadcast = decode_broadcast(fields[b"b"])
                except (KeyError, WireError) as exc:
                    log.error("broadcast %s of %s skipped: %s", _text(entry), code, exc)
                    continue
                receive(code, broadcast)


Entries = list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]]


async def _xread(redis: Redis, streams: dict[str, str]) -> Entries:
    """``XREAD COUNT BLOCK STREAMS``: [(stream, [(entry id, fields)])], [] on a timeout."""
    answer = await redis.xread(streams, count=READ_COUNT, block=BLOCK_MS)  # type: ignore[arg-type]
    return cast(Entries, answer or [])


async def backlog(redis: Redis, key: str, after: str, limit: int) -> list[tuple[Inbound, str]]:
    """The first ``limit`` items of an inbound stream after entry ``after`` ("" or "0-0":
    from its start), with their entry ids: what a room's last owner had not committed."""
    start = f"({after}" if after and after != "0-0" else "-"
    found: list[tuple[Inbound, str]] = []
    while len(found) < limit:
        entries = cast(
            list[tuple[bytes, dict[bytes, bytes]]],
            await redis.xrange(key, min=start, max="+", count=min(READ_COUNT, limit - len(found))),
        )
        if not entries:
            break
        for entry, fields in entries:
            try:
                found.append((decode_item(fields[b"i"]), _text(entry)))
            except (KeyError, WireError) as exc:
                log.error("inbound entry %s of %s skipped: %s", _text(entry), key, exc)
        start = f"({_text(entries[-1][0])}"
    return found


async def stream_end(redis: Redis, key: str) -> str:
    """The id of a stream's last entry ("0-0" for an empty or missing stream)."""
    last = cast(list[tuple[bytes, dict[bytes, bytes]]], await redis.xrevrange(key, count=1))
    return _text(last[0][0]) if last else "0-0"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


__all__ = [
    "Outage",
    "StreamInlet",
    "backlog",
    "read_inbound",
    "read_outbound",
    "stream_end",
    "write_items",
]
