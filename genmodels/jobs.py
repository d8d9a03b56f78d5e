"""What travels through the job queue: a fill-in job, its progress, its result.

A `Job` is self-contained (JSON on the wire, the same in-process and over Redis): the
worker needs nothing from the room that submitted it but the shared media folder. Its
``deadline`` is wall-clock time (``time.time()``), because the worker may run on another
machine; a result that comes back after it is useless and the room plays the fallback.

Every generated asset carries a `Provenance` (DESIGN.md, "Generation"): the backend, the
model, the prompt, the seed, what it took, and how well it kept the director's style.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from narrative.story import Backend, Style

JobStatus = Literal["done", "failed", "rejected", "late"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Job(_Model):
    """One thing to make. ``room`` and ``scene`` say where the result goes."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    room: str = Field(description="room code the result goes back to ('' for the studio)")
    scene: str = Field(description="the story scene the clip is for")
    backend: Backend
    prompt: str
    duration_s: float = Field(gt=0, description="length of the clip to make")
    seed: int = Field(ge=0)
    deadline: float = Field(description="wall-clock time (time.time()) the clip must be ready by")
    sources: tuple[str, ...] = Field((), description="media ids the montage may cut from")
    title: str | None = None
    model: str | None = Field(None, description="model id or path; None: the worker's default")
    style: Style | None = None
    renditions: tuple[str, ...] = Field(("360p", "720p"), description="the room's stream profile")
    attempt: int = Field(0, ge=0, description="deliveries before this one (Redis engine)")


class Progress(_Model):
    type: Literal["progress"] = "progress"
    job: str
    room: str
    scene: str
    fraction: float = Field(ge=0, le=1)
    stage: str


class Provenance(_Model):
    backend: Backend
    model: str = Field(description="model id or path, or 'film-clips' for a montage")
    prompt: str
    seed: int
    duration_s: float
    timings: dict[str, float] = Field(default_factory=dict, description="seconds per stage")
    style_score: float | None = Field(None, description="0..1 against the story's style anchor")
    worker: str = ""
    text: str | None = Field(None, description="the words a text backend wrote")


class Result(_Model):
    type: Literal["result"] = "result"
    job: str
    room: str
    scene: str
    status: JobStatus
    media: str | None = Field(None, description="media id of the clip in the media folder")
    provenance: Provenance | None = None
    code: str | None = Field(None, description="stable error code when not done")
    message: str | None = None


Update = Progress | Result


__all__ = ["Job", "JobStatus", "Progress", "Provenance", "Result", "Update"]
