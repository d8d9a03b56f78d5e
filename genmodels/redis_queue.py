"""The server's side of the Redis job queue: submit jobs, deliver their updates to rooms.

Used when ``KINOROOM_REDIS_URL`` is set (DESIGN.md, "Scale"); ``kinoroom worker``
processes (`genmodels.redis_worker.RedisWorker`) run the jobs. Keys and wire format are
in `genmodels.redis_streams`.

- `submit` is one XADD to the job's backend stream: it never waits for a worker. A
  job id submitted before (by this process or another: a room's new owner adopting the
  jobs its last owner asked for) is not added again (`SUBMIT_ONCE`, one atomic script).
- `start` creates the consumer groups (so jobs submitted before any worker starts are
  kept) and starts one reader task. The reader follows ``P:updates`` with XREAD BLOCK
  from the entry that was last when it started (what ``$`` means, without the gap
  between two ``$`` reads in which entries would be missed) and hands each update to
  the listeners of its room. Every server process reads every update; only the
  process whose room subscribed delivers it, so a room that moves to another process
  (its Redis lease) still gets the results of jobs submitted before the move.
- Delivery goes through `RoomListeners`: one result per job reaches the room even if
  two workers both finished it (one presumed dead that was not).
- A lost connection is retried every second; while Redis is away no update arrives and
  rooms fall back on their own deadlines.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from genmodels.jobs import Job
from genmodels.queue import Listener, RoomListeners
from genmodels.redis_streams import (
    BACKENDS,
    DEFAULT_PREFIX,
    JOBS_MAXLEN,
    StreamKeys,
    connect,
    decode_update,
    encode_job,
    ensure_groups,
    stream_entries,
)

log = logging.getLogger(__name__)

RECONNECT_S = 1.0
ASKED_KEEP_S = 60.0  # a job id is remembered this long after its deadline
# KEYS: the job's `asked` key, its backend's stream; ARGV: ms to keep it, MAXLEN, the job.
SUBMIT_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'job', ARGV[3])
end
return false
"""


class RedisQueue:
    """`genmodels.queue.JobQueue` over Redis Streams (the server's half)."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        block_ms: int = 1000,
        batch: int = 100,
    ) -> None:
        """Args:
        url: the Redis URL (``KINOROOM_REDIS_URL``).
        prefix: the keys' prefix; the workers must use the same.
        block_ms: longest a blocked XREAD waits before it is issued again.
        batch: updates read at most per XREAD.
        """
        self._url = url
        self._keys = StreamKeys(prefix)
        self._block_ms = block_ms
        self._batch = batch
        self._listeners = RoomListeners()
        self._redis: Redis | None = None
        self._reader: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def keys(self) -> StreamKeys:
        return self._keys

    async def start(self) -> None:
        self._redis = connect(self._url)
        self._submit_once = self._redis.register_script(SUBMIT_ONCE)
        await ensure_groups(self._redis, self._keys, BACKENDS)
        last = await self._redis.xrevrange(self._keys.updates, count=1)
        since = str(last[0][0]) if last else "0-0"
        self._reader = asyncio.create_task(self._read(since), name="gen-updates")

    async def submit(self, job: Job) -> None:
        """XADD ``job`` to its backend's stream.

        Raises:
            RuntimeError: before `start` (a caller bug).
            redis.exceptions.RedisError: Redis did not take it; the room plays the
                fallback.
        """
        if self._redis is None:
            raise RuntimeError("RedisQueue.submit() before start()")
        keep_ms = int((max(0.0, job.deadline - time.time()) + ASKED_KEEP_S) * 1000)
        keys = [self._keys.asked(job.id), self._keys.jobs(job.backend)]
        added = await self._submit_once(
            keys=keys, args=[keep_ms, JOBS_MAXLEN, encode_job(job)["job"]]
        )
        if not added:
            log.info("job %s: submitted before; adopted, not added again", job.id)

    def subscribe(self, room: str, listener: Listener) -> Callable[[], None]:
        return self._listeners.subscribe(room, listener)

    async def close(self) -> None:
        # The reader ends even if its cancel is lost: Python 3.11's wait_for, inside
        # redis-py, drops a cancel that comes with a reply (server/stopping.py says more).
        self._closing = True
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def _read(self, since: str) -> None:
        assert self._redis is not None
        while not self._closing:
            try:
                reply = await self._redis.xread(
                    {self._keys.updates: since}, count=self._batch, block=self._block_ms
                )
            except (RedisConnectionError, RedisTimeoutError) as exc:
                if self._closing:
                    return
                log.warning("job updates: redis unreachable (%s); retrying", exc)
                await asyncio.sleep(RECONNECT_S)
                continue
            for _stream, (entry_id, fields) in stream_entries(reply):
                since = entry_id
                try:
                    update = decode_update(fields)
                except ValueError as exc:
                    log.warning("job updates: skipped entry %s: %s", entry_id, exc)
                    continue
                self._listeners.dispatch(update)


__all__ = ["RedisQueue"]
