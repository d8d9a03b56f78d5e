"""Tiny fake backends for the queue tests: they sleep, count and fail; they write nothing.

Importable by a ``kinoroom worker`` subprocess too:
``--backends montage=tests.genmodels.queue_backends:SleepBackend``.
"""

from __future__ import annotations

import threading
import time

from genmodels.backend import GenerationError, JobContext, Output, StyleRejected, WorkerConfig
from genmodels.jobs import Job, Provenance


def provenance(job: Job, model: str = "fake") -> Provenance:
    return Provenance(
        backend=job.backend, model=model, prompt=job.prompt, seed=job.seed, duration_s=1.0
    )


class _Counting:
    name = "montage"

    def __init__(self, config: WorkerConfig) -> None:
        self.config = config
        self.runs = 0
        self._lock = threading.Lock()

    def _count(self) -> None:
        with self._lock:
            self.runs += 1


class SleepBackend(_Counting):
    """Sleeps for the seconds the prompt names (``"sleep 1.5"``), reporting progress."""

    def run(self, job: Job, context: JobContext) -> Output:
        self._count()
        words = job.prompt.split()
        seconds = float(words[1]) if len(words) == 2 and words[0] == "sleep" else 0.0
        context.progress(0.0, "start")
        time.sleep(seconds)
        context.progress(1.0, "done")
        return Output(media=f"generated/{job.id}", provenance=provenance(job))


class FailBackend(_Counting):
    def run(self, job: Job, context: JobContext) -> Output:
        self._count()
        raise GenerationError("test-broken", "this backend always fails")


class StyleBackend(_Counting):
    def run(self, job: Job, context: JobContext) -> Output:
        self._count()
        raise StyleRejected(0.2, 0.6, provenance(job).model_copy(update={"style_score": 0.2}))


class CrashBackend(_Counting):
    """A bug, not a refusal: raises something that is not a `GenerationError`."""

    def run(self, job: Job, context: JobContext) -> Output:
        self._count()
        raise RuntimeError("backend bug")
