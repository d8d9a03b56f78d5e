"""A montage stand-in a ``kinoroom worker`` subprocess can load (``--backends
montage=tests.server.fill_in_backends:ClipAfterDelay``): it waits ``FILL_IN_DELAY_S``
seconds (from its environment), then writes a magenta clip for every rendition."""

from __future__ import annotations

import os
import shutil
import time

from genmodels.backend import JobContext, Output, WorkerConfig
from genmodels.jobs import Job, Provenance
from tests.mobile_bridge.film.clips import make_clip


class ClipAfterDelay:
    name = "montage"

    def __init__(self, config: WorkerConfig) -> None:
        self._media_dir = config.media_dir
        self._delay_s = float(os.environ.get("FILL_IN_DELAY_S", "0"))

    def run(self, job: Job, context: JobContext) -> Output:
        context.progress(0.0, "compose")
        time.sleep(self._delay_s)
        media = f"generated/{job.id}"
        first = self._media_dir / media / f"{job.renditions[0]}.ts"
        make_clip(first, "magenta", seconds=job.duration_s)
        for rendition in job.renditions[1:]:
            shutil.copy(first, first.with_name(f"{rendition}.ts"))
        provenance = Provenance(
            backend="montage", model="film-clips", prompt=job.prompt, seed=job.seed,
            duration_s=job.duration_s, timings={"compose": self._delay_s}, worker=context.worker,
        )  # fmt: skip
        return Output(media, provenance)
