"""Running one job: a backend call turned into exactly one `Result`.

Both queue engines run a job the same way, in a worker thread (never on the event loop,
a backend blocks for seconds): `run_job` checks the deadline, asks the registry for the
backend, calls it, and maps what happened to a result.

====================================  =========  ===================================
what happened                         status     kept
====================================  =========  ===================================
deadline passed before the start      late       code ``deadline-passed``; not run
``Output`` before the deadline        done       media, provenance (+ worker, total)
``Output`` after the deadline         late       code ``finished-late``; media and
                                                 provenance, so the asset is recorded
`StyleRejected`                       rejected   code ``style-rejected``; provenance
`GenerationError`                     failed     its code and message
anything else                         (raised)   the engine decides: the in-process
                                                 queue fails the job (``backend-crashed``),
                                                 the Redis worker leaves it for a retry
====================================  =========  ===================================

Progress goes through `ProgressGate`, so a backend may report every frame while the
room (and Redis) see a handful of updates a second at most.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Callable

from genmodels.backend import GenerationError, JobContext, StyleRejected, WorkerConfig
from genmodels.backends import BackendRegistry
from genmodels.jobs import Job, JobStatus, Progress, Result

PROGRESS_INTERVAL_S = 0.25


def new_worker_id() -> str:
    """``hostname-pid-xxxx``: says which machine and process ran a job (provenance)."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}"


def finished(job: Job, status: JobStatus, code: str, message: str) -> Result:
    """A result without an asset, for ``job``'s room."""
    return Result(
        job=job.id, room=job.room, scene=job.scene, status=status, code=code, message=message
    )


class ProgressGate:
    """Lets a progress report through when it says something new, at most every interval.

    A new stage, and the final ``1.0``, always pass; within a stage, a report passes
    once ``interval_s`` has gone by since the last one that passed. Pure: time is an
    argument.
    """

    def __init__(self, interval_s: float = PROGRESS_INTERVAL_S) -> None:
        self._interval_s = interval_s
        self._stage: str | None = None
        self._fraction = -1.0
        self._at = float("-inf")

    def admit(self, fraction: float, stage: str, now: float) -> bool:
        changed = stage != self._stage or (fraction >= 1.0 and self._fraction < 1.0)
        if not changed and (now - self._at < self._interval_s or fraction == self._fraction):
            return False
        self._stage, self._fraction, self._at = stage, fraction, now
        return True


def run_job(
    job: Job,
    registry: BackendRegistry,
    config: WorkerConfig,
    *,
    worker: str,
    on_progress: Callable[[Progress], None],
    clock: Callable[[], float] = time.time,
) -> Result:
    """Run ``job`` in the calling thread and say how it went (see the module's table).

    Args:
        job: what to make.
        registry: where the backend named by ``job.backend`` comes from.
        config: the media folder the backend writes into.
        worker: this worker's id, recorded in the provenance.
        on_progress: called from this thread with each admitted progress update.
        clock: wall-clock time, the same clock as ``job.deadline``.

    Returns:
        The job's one result.

    Raises:
        Exception: whatever the backend raised that is not a `GenerationError`.
    """
    if clock() >= job.deadline:
        return finished(job, "late", "deadline-passed", "the deadline passed before a worker")
    gate = ProgressGate()

    def progress(fraction: float, stage: str) -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        if gate.admit(fraction, stage, time.monotonic()):
            on_progress(
                Progress(job=job.id, room=job.room, scene=job.scene, fraction=fraction, stage=stage)
            )

    started = time.perf_counter()
    try:
        backend = registry.get(job.backend)
        output = backend.run(job, JobContext(config.media_dir, progress, worker))
    except StyleRejected as exc:
        return Result(
            job=job.id,
            room=job.room,
            scene=job.scene,
            status="rejected",
            provenance=exc.provenance.model_copy(update={"worker": worker}),
            code=exc.code,
            message=exc.message,
        )
    except GenerationError as exc:
        return finished(job, "failed", exc.code, exc.message)
    timings = {"total": round(time.perf_counter() - started, 3), **output.provenance.timings}
    provenance = output.provenance.model_copy(update={"worker": worker, "timings": timings})
    late = clock() > job.deadline
    return Result(
        job=job.id,
        room=job.room,
        scene=job.scene,
        status="late" if late else "done",
        media=output.media,
        provenance=provenance,
        code="finished-late" if late else None,
        message="finished after the deadline" if late else None,
    )


__all__ = ["ProgressGate", "finished", "new_worker_id", "run_job"]
