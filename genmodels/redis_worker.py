"""The worker's side of the Redis job queue: runs jobs, and the jobs of workers that died.

Theory of operation. A worker is one consumer (named by its worker id) of the group on
the jobs streams of the backends it serves (`genmodels.redis_streams`); every Redis
command it sends is in `genmodels.redis_claims.Claims`. While one of its
``concurrency`` threads is free, the loop

1. takes entries idle longer than ``claim_idle_s`` (XAUTOCLAIM, at most every quarter of
   it while there are none): jobs of workers that died (SIGKILL, OOM, a lost machine)
   or gave a job up after a crash;
2. otherwise reads new ones (XREADGROUP ``>``), blocking at most ``block_ms``.

Each entry taken is handled by its own task:

- delivered more than ``max_deliveries`` times: dead letter. The job, the reason and
  the last error go to ``P:dead``, the room gets ``failed`` code ``dead-letter``, the
  entry is acknowledged.
- otherwise the job runs in a thread (`genmodels.worker.run_job`) while the task
  refreshes the claim every ``claim_idle_s / 3``: a slow but live worker is never
  robbed, a dead one stops refreshing and its job goes to the next free worker after
  ``claim_idle_s``.
- a definite outcome (done, late, rejected, failed with a `GenerationError`) is settled:
  result published, entry acknowledged and deleted.
- an unexpected exception (a crashing backend) is recorded and the entry released, so a
  worker (this one, or another) retries it at once; the dead letter bounds the retries.
- Redis going away mid-job leaves the entry pending: it is claimed again later. A
  consumer group that disappeared (Redis restarted without persistence) is recreated.

So every job gets one result, at least once. Progress is advisory: published without
waiting, dropped when ``MAX_PROGRESS_IN_FLIGHT`` publishes are pending.

Limitations: XREADGROUP's COUNT applies per stream, so a worker serving several backends
may hold more entries than threads (they wait, their claims kept fresh); a thread
running a backend cannot be interrupted, so after `stop` `run` waits ``grace_s`` for the
running jobs and then gives up on them (``abandoned``; other workers reclaim them).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from genmodels.backend import WorkerConfig
from genmodels.backends import BackendRegistry
from genmodels.jobs import Job, Progress, Result
from genmodels.redis_claims import Claims, Taken
from genmodels.redis_streams import (
    BACKENDS,
    DEFAULT_PREFIX,
    StreamKeys,
    connect,
    decode_job,
    ensure_groups,
)
from genmodels.worker import finished, new_worker_id, run_job

log = logging.getLogger(__name__)

RECONNECT_S = 1.0
MAX_PROGRESS_IN_FLIGHT = 32


class RedisWorker:
    """One ``kinoroom worker``: runs jobs from Redis until `stop` (see the module doc)."""

    def __init__(
        self,
        url: str,
        registry: BackendRegistry,
        config: WorkerConfig,
        *,
        prefix: str = DEFAULT_PREFIX,
        concurrency: int = 1,
        claim_idle_s: float = 5.0,
        max_deliveries: int = 3,
        block_ms: int | None = None,
        grace_s: float = 30.0,
        worker_id: str | None = None,
    ) -> None:
        """Args:
        url: the Redis URL (``KINOROOM_REDIS_URL``).
        registry: the backends this worker serves; it reads only their streams.
        config: what the backends write into.
        prefix: the keys' prefix; the server must use the same.
        concurrency: jobs run at once, each in its own thread.
        claim_idle_s: how long a job entry nobody refreshes waits before another
            worker takes it (a dead worker's job is late by about this much).
        max_deliveries: deliveries of one job before it goes to the dead letter.
        block_ms: longest wait for new jobs before looking for idle ones again;
            default half of ``claim_idle_s``, between 50 ms and 2 s.
        grace_s: how long `run` waits for running jobs after `stop`.
        worker_id: default `genmodels.worker.new_worker_id`.
        """
        self.served = [name for name in registry.names if name in BACKENDS]
        if not self.served:
            raise ValueError(f"no servable backend in {registry.names} (known: {BACKENDS})")
        if concurrency < 1 or max_deliveries < 1 or claim_idle_s <= 0:
            raise ValueError("concurrency and max_deliveries must be >= 1, claim_idle_s > 0")
        self.worker_id = worker_id or new_worker_id()
        self.abandoned = 0  # jobs still running when `run` gave up waiting (grace_s)
        self._url = url
        self._registry = registry
        self._config = config
        self._keys = StreamKeys(prefix)
        self._concurrency = concurrency
        self._claim_idle_ms = max(1, round(claim_idle_s * 1000))
        self._max_deliveries = max_deliveries
        self._block_ms = block_ms or min(2000, max(50, self._claim_idle_ms // 2))
        self._grace_s = grace_s
        self._scan_at = 0.0  # monotonic time of the next look for idle entries
        self._running: set[asyncio.Task[None]] = set()
        self._progress: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()

    def stop(self) -> None:
        """Take no more jobs; `run` returns once running ones finish (at most ``grace_s``)."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Take and run jobs until `stop`.

        Raises:
            redis.exceptions.RedisError: Redis is unreachable at the start, or refused
                to create the consumer groups.
        """
        self._loop = asyncio.get_running_loop()
        redis = connect(self._url)
        streams = [self._keys.jobs(name) for name in self.served]
        self._claims = Claims(redis, self._keys, self.worker_id, streams, self._claim_idle_ms)
        self._executor = concurrent.futures.ThreadPoolExecutor(
            self._concurrency, thread_name_prefix="kinoroom-worker"
        )
        try:
            await ensure_groups(redis, self._keys, self.served)
            log.info("worker %s ready: backends=%s", self.worker_id, ",".join(self.served))
            while not self._stopping.is_set():
                try:
                    await self._take()
                except (RedisConnectionError, RedisTimeoutError) as exc:
                    log.warning("worker: redis unreachable (%s); retrying", exc)
                    await self._pause(RECONNECT_S)
                except ResponseError as exc:
                    if not str(exc).startswith(("NOGROUP", "UNBLOCKED")):
                        raise
                    # Redis restarted without its data, or the keys were deleted.
                    log.warning("worker: consumer group gone; creating it again")
                    await ensure_groups(redis, self._keys, self.served)
        finally:
            await self._drain()
            self._executor.shutdown(wait=False, cancel_futures=True)
            await redis.aclose()

    async def _take(self) -> None:
        self._wake.clear()
        free = self._concurrency - len(self._running)
        if free <= 0:
            await self._pause(self._block_ms / 1000)
            return
        taken = await self._take_idle(free)
        for entry in taken or await self._claims.take_new(free, self._block_ms):
            if self._stopping.is_set():  # read as `stop` came: another worker will run it
                await self._claims.release(entry)
                continue
            task = asyncio.create_task(self._handle(entry), name=f"job-{entry.entry}")
            self._running.add(task)
            task.add_done_callback(self._done)

    async def _take_idle(self, most: int) -> list[Taken]:
        """Idle entries, looked for at most every ``claim_idle_s / 4`` while none turn up.

        An entry cannot become claimable faster than that, and skipping the XAUTOCLAIM
        saves a round trip per job when jobs come one after another.
        """
        if time.monotonic() < self._scan_at:
            return []
        taken = await self._claims.take_idle(most)
        if not taken:
            self._scan_at = time.monotonic() + self._claim_idle_ms / 4000
        return taken

    async def _handle(self, taken: Taken) -> None:
        started = time.perf_counter()
        try:
            job = decode_job(taken.fields)
        except ValueError as exc:
            log.warning("entry %s in %s is not a job: %s", taken.entry, taken.stream, exc)
            await self._claims.settle(taken, None, dead_reason=f"bad-job: {exc}")
            return
        if taken.deliveries > self._max_deliveries:
            reason = f"delivered {taken.deliveries} times (max {self._max_deliveries})"
            if last := await self._claims.last_error(taken):
                reason += f"; last error: {last}"
            result = finished(job, "failed", "dead-letter", reason)
            if await self._claims.settle(taken, result, dead_reason=reason):
                self._log(job, result, started)
            return
        job = job.model_copy(update={"attempt": taken.deliveries - 1})
        async with self._claim_kept(taken):
            try:
                result = await self._loop.run_in_executor(self._executor, self._work, job)
            except Exception as exc:
                log.exception(
                    "job %s room=%s scene=%s backend=%s status=crashed attempt=%d "
                    "(retried until the dead letter)",
                    job.id,
                    job.room,
                    job.scene,
                    job.backend,
                    job.attempt,
                )
                await self._claims.record_error(taken, f"{type(exc).__name__}: {exc}")
                await self._claims.release(taken)
                return
        if await self._claims.settle(taken, result):
            self._log(job, result, started)
        else:
            log.warning("job %s: another worker owns it now; this result is dropped", job.id)

    def _work(self, job: Job) -> Result:
        """In a worker thread."""
        return run_job(
            job, self._registry, self._config, worker=self.worker_id, on_progress=self._post
        )

    def _post(self, progress: Progress) -> None:
        """In a worker thread: have the loop publish ``progress``."""
        with contextlib.suppress(RuntimeError):  # the loop is gone: so is the room's interest
            self._loop.call_soon_threadsafe(self._publish, progress)

    def _publish(self, progress: Progress) -> None:
        if len(self._progress) < MAX_PROGRESS_IN_FLIGHT:
            task = asyncio.create_task(self._send_progress(progress))
            self._progress.add(task)
            task.add_done_callback(self._progress.discard)

    async def _send_progress(self, progress: Progress) -> None:
        with contextlib.suppress(RedisError):
            await self._claims.publish(progress)

    @contextlib.asynccontextmanager
    async def _claim_kept(self, taken: Taken) -> AsyncIterator[None]:
        """Refresh the claim on ``taken`` every ``claim_idle_s / 3`` while the block runs."""

        ended = False  # ends the loop even if redis-py lost its cancel (see RedisQueue.close)

        async def refresh() -> None:
            while not ended:
                await asyncio.sleep(self._claim_idle_ms / 3000)
                try:
                    if not await self._claims.refresh(taken):
                        log.warning("entry %s: taken over by another worker", taken.entry)
                        return
                except RedisError as exc:
                    log.warning("entry %s: claim not refreshed: %s", taken.entry, exc)

        refresher = asyncio.create_task(refresh(), name=f"claim-{taken.entry}")
        try:
            yield
        finally:
            ended = True
            refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._wake.set()
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.warning(
                "job task %s ended unsettled (claimed again later): %r", task.get_name(), exc
            )

    def _log(self, job: Job, result: Result, started: float) -> None:
        log.info(
            "job %s room=%s scene=%s backend=%s status=%s code=%s attempt=%d seconds=%.2f",
            job.id,
            job.room,
            job.scene,
            job.backend,
            result.status,
            result.code or "-",
            job.attempt,
            time.perf_counter() - started,
        )

    async def _pause(self, seconds: float) -> None:
        """Sleep ``seconds``, or until a job finishes or `stop` is called."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()

    async def _drain(self) -> None:
        if self._running:
            _done, pending = await asyncio.wait(self._running, timeout=self._grace_s)
            self.abandoned = len(pending)
            if pending:
                log.warning("worker: gave up waiting for %d running job(s)", len(pending))
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for update in list(self._progress):
            update.cancel()
        await asyncio.gather(*self._progress, return_exceptions=True)
        if not self.abandoned:
            await self._claims.leave()


__all__ = ["RedisWorker"]
