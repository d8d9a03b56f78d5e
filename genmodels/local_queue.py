"""The in-process job queue: fill-in jobs run in threads of the server's own process.

The default engine (DESIGN.md, "Scale": one process needs nothing running). `submit`
only creates a task that hands the job to a `ThreadPoolExecutor` of ``workers``
threads and awaits it; the backend (PyAV, torch) blocks that thread, never the loop.
Progress reported from the thread is marshalled back with
``loop.call_soon_threadsafe``; the result comes back as the executor future's value.
Either way listeners are only ever called on the event loop, through `RoomListeners`.

Decisions, each a bound the room can rely on:

- ``workers=0`` answers every job at once with status ``failed``, code ``no-workers``
  (on the next loop iteration, never inside `submit`), so the room plays the fallback
  without waiting for its deadline.
- At most ``max_pending`` jobs are queued or running; one more is answered ``failed``,
  code ``queue-full``.
- A job id submitted before (of the last ``ASKED_REMEMBERED``) is dropped: a crashed
  room restored in this process asks again for its jobs, and adopts the ones running.
- A job whose deadline passed while it waited for a thread is answered ``late``, code
  ``deadline-passed``, without running (`genmodels.worker.run_job`).
- A backend that raises something other than a `GenerationError` fails its job, code
  ``backend-crashed`` (logged with its traceback): in-process there is no second
  worker to retry on.

`close` stops delivering and drops queued jobs; a job already running in a thread
cannot be interrupted: it finishes in the background and its result is discarded.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping

from genmodels.backend import Backend, WorkerConfig
from genmodels.backends import BackendRegistry
from genmodels.jobs import Job, Progress, Result, Update
from genmodels.queue import Listener, RoomListeners
from genmodels.worker import finished, new_worker_id, run_job

log = logging.getLogger(__name__)

ASKED_REMEMBERED = 4096  # job ids kept to drop a second submission of one


class LocalQueue:
    """`genmodels.queue.JobQueue` with ``workers`` threads in this process."""

    def __init__(
        self,
        config: WorkerConfig,
        workers: int,
        backends: Mapping[str, Backend] | BackendRegistry | None = None,
        *,
        max_pending: int = 64,
    ) -> None:
        """Args:
        config: media folder and models, for the backends.
        workers: jobs run at once (``Settings.gen_workers``); 0: none, ever.
        backends: a registry, or ready instances by name (tests); default the
            registry of `genmodels.backends.DEFAULT_SPECS`, imported on first use.
        max_pending: jobs queued or running at once before ``queue-full``.
        """
        if workers < 0:
            raise ValueError(f"workers must be at least 0, got {workers}")
        if isinstance(backends, BackendRegistry):
            self._registry = backends
        else:
            self._registry = BackendRegistry(config, instances=backends)
        self._config = config
        self._workers = workers
        self._max_pending = max_pending
        self._worker_id = new_worker_id()
        self._listeners = RoomListeners()
        self._tasks: set[asyncio.Task[None]] = set()
        self._asked: OrderedDict[str, None] = OrderedDict()  # job ids submitted, oldest first
        self._loop: asyncio.AbstractEventLoop | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._closed = False

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self._workers:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                self._workers, thread_name_prefix="kinoroom-gen"
            )

    async def submit(self, job: Job) -> None:
        """Queue ``job``; its progress and result go to the listeners of ``job.room``.

        Raises:
            RuntimeError: before `start` or after `close` (a caller bug).
        """
        if self._loop is None or self._closed:
            raise RuntimeError("LocalQueue.submit() before start() or after close()")
        if job.id in self._asked:
            log.info("job %s: submitted before; adopted, not run again", job.id)
            return
        self._asked[job.id] = None
        if len(self._asked) > ASKED_REMEMBERED:
            self._asked.popitem(last=False)
        if self._executor is None:
            self._answer(finished(job, "failed", "no-workers", "no generation workers"))
        elif len(self._tasks) >= self._max_pending:
            self._answer(finished(job, "failed", "queue-full", "too many jobs queued"))
        else:
            task = asyncio.create_task(self._run(job, self._executor), name=f"gen-{job.id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def subscribe(self, room: str, listener: Listener) -> Callable[[], None]:
        return self._listeners.subscribe(room, listener)

    async def close(self) -> None:
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    def _answer(self, result: Result) -> None:
        assert self._loop is not None
        self._loop.call_soon(self._deliver, result)

    def _deliver(self, update: Update) -> None:
        if not self._closed:
            self._listeners.dispatch(update)

    async def _run(self, job: Job, executor: concurrent.futures.Executor) -> None:
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        result = await loop.run_in_executor(executor, self._work, job)
        log.info(
            "job %s room=%s scene=%s backend=%s status=%s code=%s seconds=%.2f",
            job.id,
            job.room,
            job.scene,
            job.backend,
            result.status,
            result.code or "-",
            time.perf_counter() - started,
        )
        self._deliver(result)

    def _work(self, job: Job) -> Result:
        """In a worker thread: the job's result, whatever the backend does."""
        try:
            return run_job(
                job, self._registry, self._config, worker=self._worker_id, on_progress=self._post
            )
        except Exception as exc:
            log.exception("backend %s crashed on job %s", job.backend, job.id)
            return finished(job, "failed", "backend-crashed", f"{type(exc).__name__}: {exc}")

    def _post(self, progress: Progress) -> None:
        """In a worker thread: hand ``progress`` to the loop (dropped once closed)."""
        if self._closed or self._loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop closed under a job outliving close()
            self._loop.call_soon_threadsafe(self._deliver, progress)


__all__ = ["LocalQueue"]
