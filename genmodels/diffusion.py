"""The diffusion backend: keyframes from a diffusers pipeline, animated into a clip.

A text-to-image model makes a handful of keyframes (one per shot at the style's pacing,
at most `MAX_KEYFRAMES`; keyframe ``i`` from a CPU ``torch.Generator`` seeded
``job.seed + i``, so a seed makes the same pictures on any device), which the montage's
cut (`genmodels.shots`) turns into a clip at the stream's frame rate: a slow Ken Burns
move on each still, crossfades between them, a title card when the job has one, the
same grade, score and rejection against the style anchor, the same encoding to every
rendition (`montage.cut_and_encode`). A pipeline whose output has ``frames`` (text- or
image-to-video) gives one shot that plays them across the clip. A pipeline whose call
takes an ``image`` (image-to-image, image-to-video) is given a frame of the film: the
middle of the job's first source, else of the first style reference.

The model is ``job.model`` or the worker's ``diffusion_model``: a hub id or a local
folder, loaded with ``local_files_only`` when ``HF_HUB_OFFLINE`` is set, in float16 on
CUDA and float32 on CPU, once per backend instance (a job asking for another model
replaces it). torch and diffusers are imported only when a job runs, so building the
backend (and ``kinoroom serve``) never imports them; jobs take turns on the pipeline,
which is not re-entrant. Stages: ``load`` (0–0.1), ``sample`` (0.1–0.7, per denoising
step where the pipeline reports them), ``style`` and ``encode`` (0.7–1).

Errors: ``diffusion-no-model``, ``diffusion-load-failed``, ``diffusion-failed`` (the
pipeline raised, e.g. out of GPU memory), ``diffusion-no-image``, ``bad-device``,
``diffusion-no-cuda``, ``style-rejected``, and those of `genmodels.clips`.
"""

from __future__ import annotations

import inspect
import os
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, cast

import numpy as np
from PIL import Image

from genmodels.anchors import load_anchor
from genmodels.backend import GenerationError, JobContext, Output, WorkerConfig
from genmodels.clips import read_frames
from genmodels.jobs import Job
from genmodels.montage import TITLE_CARD_S, Timings, cut_and_encode
from genmodels.shots import Frame, Frames, ShotSource, Still, plan_shots
from genmodels.style import DEFAULT_PACING_S

MAX_KEYFRAMES = 4


class Pipeline(Protocol):
    """What this backend uses of a diffusers pipeline (any of them)."""

    def __call__(self, **kwargs: Any) -> Any: ...

    def to(self, device: str) -> Any: ...

    def set_progress_bar_config(self, **kwargs: Any) -> None: ...


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() not in ("", "0", "false", "no")


def to_frames(pictures: Any) -> list[Frame]:
    """RGB uint8 frames from what a pipeline returns: PIL images, arrays in 0..1 (one
    picture or a batch), or lists of either."""
    if isinstance(pictures, Image.Image):
        return [np.asarray(pictures.convert("RGB"), np.uint8)]
    if isinstance(pictures, np.ndarray):
        if pictures.ndim == 3:
            pictures = pictures[None]
        scaled = np.clip(np.rint(pictures.astype(np.float32) * 255), 0, 255).astype(np.uint8)
        return [np.ascontiguousarray(p[..., :3]) for p in scaled.reshape(-1, *scaled.shape[-3:])]
    return [frame for item in pictures for frame in to_frames(item)]


class DiffusionBackend:
    """The ``diffusion`` backend (module docstring)."""

    name = "diffusion"

    def __init__(self, config: WorkerConfig) -> None:
        self._config = config
        self._lock = threading.Lock()  # one job at a time on the pipeline
        self._pipe: Pipeline | None = None
        self._loaded: tuple[str, str] | None = None  # (model, device) of _pipe

    def device(self) -> str:
        """The torch device jobs run on: the config's, ``auto`` meaning CUDA when present.

        Raises:
            GenerationError: ``bad-device``, ``diffusion-no-cuda``.
        """
        import torch

        want = self._config.device
        if want not in ("auto", "cpu", "cuda"):
            raise GenerationError("bad-device", f"unknown device {want!r}")
        if want == "cuda" and not torch.cuda.is_available():
            raise GenerationError("diffusion-no-cuda", "device cuda asked for, none found")
        if want == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        return want

    def _pipeline(self, model: str) -> Pipeline:
        import torch
        from diffusers import DiffusionPipeline

        device = self.device()
        if self._pipe is not None and self._loaded == (model, device):
            return self._pipe
        self._pipe, self._loaded = None, None  # free the old model before the new one loads
        dtype = torch.float16 if device == "cuda" else torch.float32
        try:
            load: Callable[..., Any] = DiffusionPipeline.from_pretrained
            pipe = cast(Pipeline, load(model, dtype=dtype, local_files_only=_offline()))
            pipe.to(device)
        except Exception as exc:  # OSError, ValueError, whatever a broken folder raises
            raise GenerationError("diffusion-load-failed", f"{model}: {exc}") from exc
        pipe.set_progress_bar_config(disable=True)
        self._pipe, self._loaded = pipe, (model, device)
        return pipe

    def _conditioning(self, job: Job, context: JobContext) -> Image.Image:
        sources = list(job.sources) or (job.style.references[:1] if job.style else [])
        if not sources:
            raise GenerationError("diffusion-no-image", "this model needs a frame of the film")
        frame = read_frames(context.media_dir, sources[0], count=1)[0]
        image = Image.fromarray(frame)
        size = self._config.diffusion_size
        return image.resize(size, Image.Resampling.BICUBIC) if size else image

    def _sample(
        self, pipe: Pipeline, job: Job, context: JobContext, count: int
    ) -> tuple[list[Frame], bool]:
        """``count`` keyframes (or one video's frames: the flag says which)."""
        import torch

        params = inspect.signature(pipe).parameters
        generators = [torch.Generator("cpu").manual_seed(job.seed + i) for i in range(count)]
        kwargs: dict[str, Any] = {"generator": generators}
        if "num_images_per_prompt" in params:
            kwargs["num_images_per_prompt"] = count
        else:
            kwargs["generator"] = generators[0]
        steps = self._config.diffusion_steps
        if steps is not None:
            kwargs["num_inference_steps"] = steps
        if self._config.diffusion_size is not None and "height" in params:
            kwargs["width"], kwargs["height"] = self._config.diffusion_size
        for name, value in (("prompt", job.prompt), ("output_type", "np")):
            if name in params:
                kwargs[name] = value
        if "image" in params:
            kwargs["image"] = self._conditioning(job, context)
        if "callback_on_step_end" in params:
            declared = getattr(params.get("num_inference_steps"), "default", None)
            total = steps or (declared if isinstance(declared, int) else 50)

            def on_step(
                _pipe: object, step: int, _t: object, out: dict[str, Any]
            ) -> dict[str, Any]:
                context.progress(0.1 + 0.6 * (step + 1) / max(1, total), "sample")
                return out

            kwargs["callback_on_step_end"] = on_step
        try:
            with torch.inference_mode():
                result = pipe(**kwargs)
        except Exception as exc:  # torch.OutOfMemoryError, RuntimeError, ValueError
            raise GenerationError("diffusion-failed", f"{self._loaded}: {exc}") from exc
        video = getattr(result, "frames", None)
        if video is not None:
            return to_frames(video[0]), True
        return to_frames(result.images), False

    def run(self, job: Job, context: JobContext) -> Output:
        """Make the job's clip from keyframes the model draws (module docstring).

        Raises:
            GenerationError: see the module docstring.
            StyleRejected: the graded clip scored below the style's threshold.
        """
        model = job.model or self._config.diffusion_model
        if not model:
            raise GenerationError("diffusion-no-model", "no diffusion model configured")
        timings = Timings()
        anchor = load_anchor(job.style, context.media_dir) if job.style is not None else None
        card_s = min(TITLE_CARD_S, job.duration_s / 2) if job.title else 0.0
        pacing = anchor.pacing_s if anchor is not None else DEFAULT_PACING_S
        count = min(MAX_KEYFRAMES, max(1, round((job.duration_s - card_s) / pacing)))
        context.progress(0.0, "load")
        with self._lock:
            began = time.perf_counter()
            pipe = self._pipeline(model)
            timings.add("load", time.perf_counter() - began)
            context.progress(0.1, "sample")
            began = time.perf_counter()
            frames, video = self._sample(pipe, job, context, count)
            timings.add("sample", time.perf_counter() - began)
        footage_s = job.duration_s - card_s
        sources: list[ShotSource] = (
            [Frames(frames, footage_s)] if video else [Still(frame) for frame in frames]
        )
        shots = plan_shots(
            job.duration_s,
            [footage_s] * len(sources),
            pacing_s=footage_s if video else footage_s / len(sources),
            seed=job.seed,
            card_s=card_s,
        )
        silence = np.zeros((2, 0), np.float32)
        return cut_and_encode(
            job,
            context,
            shots=shots,
            open_source=sources.__getitem__,
            anchor=anchor,
            sound=silence,
            model=model,
            timings=timings,
            start=0.7,
        )


__all__ = ["MAX_KEYFRAMES", "DiffusionBackend", "to_frames"]
