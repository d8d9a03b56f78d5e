"""The montage backend: a fill-in scene cut from the film's own clips, on any CPU.

Always available, so it is also what a room can fall back on. From the job's
``sources`` (default: the style's references) it plans shots at the style's pacing
(`shots.plan_shots`: the job's seed picks sources, offsets and Ken Burns moves, so a
seed always makes the same clip), puts a title card first when the job has a title,
grades the footage to the style anchor and scores it, then encodes every rendition of
the job (`clips.write_clip`). Stages and their share of the reported progress:

====== ========= ===================================================================
stage  progress  work
====== ========= ===================================================================
decode 0 – 0.1   the anchor (frames of the references, cached) and the sources' sound
style  0.1 – 0.2 8 frames of footage (`shots.sample_frames`), the grade fitted to
                 them, the same frames graded and scored at the first rendition's
                 size; below the threshold: `StyleRejected`, before a single frame is
                 encoded
encode 0.2 – 1   every frame composed (``compose`` in the timings) and encoded
====== ========= ===================================================================

A job with a title and no sources is a caption card (`render_card_clip`, also what the
text backend calls with the words its model wrote). A card has no footage to score: its
colours come from the palette and its grain from the style's declared ``grain``, and
its ``style_score`` is None.

`cut_and_encode` (the style and encode stages) is shared with the diffusion backend.

Errors: ``montage-no-sources`` (none given and no style, or one not in the media
folder), ``style-rejected``, ``style-missing-reference``, and those of `genmodels.clips`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from genmodels.anchors import load_anchor
from genmodels.backend import GenerationError, JobContext, Output, StyleRejected, WorkerConfig
from genmodels.cards import card_frame
from genmodels.clips import (
    GENERATED_FPS,
    FrameReader,
    find_media,
    job_renditions,
    read_audio,
    write_clip,
)
from genmodels.jobs import Job, Provenance
from genmodels.shots import (
    Cut,
    Frame,
    Shot,
    ShotSource,
    Sound,
    mix_sound,
    plan_shots,
    sample_frames,
)
from genmodels.style import (
    DEFAULT_PACING_S,
    GRAIN_FULL,
    Anchor,
    Conformer,
    StyleScore,
    identity_conformer,
)
from mobile_bridge.media.renditions import AUDIO_RATE

MODEL = "film-clips"
STYLE_SAMPLES = 8
TITLE_CARD_S = 2.0


@dataclass
class Timings:
    """Seconds per stage, summed as the job goes (Provenance ``timings``)."""

    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[stage] = round(self.seconds.get(stage, 0.0) + seconds, 4)


@dataclass(frozen=True, slots=True)
class CardClip:
    """A caption card written to the media folder (`render_card_clip`)."""

    media: str  # generated/<job.id>
    timings: dict[str, float]  # compose, encode


def frame_count(job: Job) -> int:
    """Frames in the job's clip at `GENERATED_FPS`."""
    return max(1, round(job.duration_s * GENERATED_FPS))


def grade(
    anchor: Anchor | None, cut: Callable[[Conformer], Cut], job: Job
) -> tuple[Conformer, StyleScore | None, float]:
    """Fit the style grade on `STYLE_SAMPLES` frames of the clip (`shots.sample_frames`:
    footage, not the card, away from dissolves) and score the same frames graded: the
    frames scored are the frames encoded (`check_score` decides).

    Args:
        anchor: the job's style anchor; None: no grade, no score.
        cut: makes the clip's `Cut` with a grade (its first size is scored).
        job: the job (frame count, seed of the grain).

    Returns:
        The grade, the score, and the seconds spent decoding.
    """
    if anchor is None:
        return identity_conformer(), None, 0.0
    decode_s = 0.0

    def render(sampler: Cut, picks: list[int]) -> list[Frame]:
        nonlocal decode_s
        try:
            return [sampler.frame(n)[0] for n in picks]
        finally:
            sampler.close()
            decode_s += sampler.decode_s

    ungraded = cut(identity_conformer())
    picks = sample_frames(ungraded.shots, STYLE_SAMPLES, frame_count(job), GENERATED_FPS)
    conformer = anchor.conformer(render(ungraded, picks), seed=job.seed)
    return conformer, anchor.score_parts(render(cut(conformer), picks)), decode_s


def provenance(
    job: Job, model: str, timings: Timings, score: float | None, worker: str
) -> Provenance:
    return Provenance(
        backend=job.backend,
        model=model,
        prompt=job.prompt,
        seed=job.seed,
        duration_s=job.duration_s,
        timings=dict(timings.seconds),
        style_score=None if score is None else round(score, 4),
        worker=worker,
    )


def check_score(job: Job, score: StyleScore | None, provenance: Provenance) -> None:
    """Raise `StyleRejected` when ``score`` misses the job's style threshold."""
    if score is not None and job.style is not None and score.total < job.style.threshold:
        raise StyleRejected(score.total, job.style.threshold, provenance)


def render_card_clip(job: Job, context: JobContext, text: str, *, start: float = 0.0) -> CardClip:
    """Write a card showing ``text`` for the whole of ``job.duration_s`` as the job's clip.

    The card fades in from and out to black over a quarter second, in the style's palette
    with its declared grain, over silence. The text backend calls this with its words.
    Encoding progress is reported from ``start`` (the caller's progress so far) to 1.

    Raises:
        GenerationError: ``clip-bad-job``.
    """
    timings = Timings()
    began = time.perf_counter()
    sizes = [(r.width, r.height) for r in job_renditions(job)]
    cards = [card_frame(text, size, job.style) for size in sizes]
    grain = (job.style.grain if job.style is not None else 0.0) * GRAIN_FULL
    conformer = Conformer(identity_conformer().delta, grain, job.seed)
    count, fade = frame_count(job), round(0.25 * GENERATED_FPS)
    timings.add("compose", time.perf_counter() - began)

    def frames() -> Iterator[list[Frame]]:
        for n in range(count):
            level = min(1.0, (n + 1) / fade, (count - n) / fade)
            yield [conformer.grain((card * level).astype(np.uint8), n) for card in cards]

    began = time.perf_counter()
    media = write_clip(
        job,
        context.media_dir,
        frames(),
        np.zeros((2, 0), np.float32),
        backend=job.backend,
        progress=lambda s: context.progress(
            start + (1 - start) * min(1.0, s / job.duration_s), "encode"
        ),
    )
    timings.add("encode", time.perf_counter() - began)
    return CardClip(media, timings.seconds)


class MontageBackend:
    """The ``montage`` backend (module docstring). Thread-safe: no per-job state on self."""

    name = "montage"

    def __init__(self, config: WorkerConfig) -> None:
        self._config = config

    def run(self, job: Job, context: JobContext) -> Output:
        """Make the montage of ``job`` and record it in the media folder.

        Raises:
            GenerationError: ``montage-no-sources``, ``clip-*``, ``style-missing-reference``.
            StyleRejected: the graded footage scored below the style's threshold.
        """
        media_dir = context.media_dir
        sources = list(job.sources or (job.style.references if job.style else ()))
        if not sources and job.title is None:
            raise GenerationError("montage-no-sources", "no sources, no style references, no title")
        if not sources:
            card = render_card_clip(job, context, job.title or "")
            timings = Timings(dict(card.timings))
            return Output(card.media, provenance(job, MODEL, timings, None, context.worker))
        timings = Timings()
        context.progress(0.0, "decode")
        began = time.perf_counter()
        sizes = [(r.width, r.height) for r in job_renditions(job)]
        missing = []
        medias = []
        for media_id in sources:
            try:
                medias.append(find_media(media_dir, media_id, max(w for w, _ in sizes)))
            except GenerationError:
                missing.append(media_id)
        if missing:
            raise GenerationError(
                "montage-no-sources", f"not in the media folder: {', '.join(missing)}"
            )
        anchor = load_anchor(job.style, media_dir) if job.style is not None else None
        sounds = [read_audio(media_dir, media_id) for media_id in sources]
        timings.add("decode", time.perf_counter() - began)

        card_s = min(TITLE_CARD_S, job.duration_s / 2) if job.title else 0.0
        pacing = anchor.pacing_s if anchor is not None else DEFAULT_PACING_S
        durations = [m.info.duration_s for m in medias]
        shots = plan_shots(job.duration_s, durations, pacing_s=pacing, seed=job.seed, card_s=card_s)
        sound = mix_sound(shots, sounds, job.duration_s, AUDIO_RATE)
        return cut_and_encode(
            job,
            context,
            shots=shots,
            open_source=lambda i: FrameReader(medias[i]),
            anchor=anchor,
            sound=sound,
            model=MODEL,
            timings=timings,
            start=0.1,
        )


def cut_and_encode(
    job: Job,
    context: JobContext,
    *,
    shots: Sequence[Shot],
    open_source: Callable[[int], ShotSource],
    anchor: Anchor | None,
    sound: Sound,
    model: str,
    timings: Timings,
    start: float,
) -> Output:
    """The last two stages of a picture backend: ``style`` (grade and score, reported at
    progress ``start``) and ``encode`` (every frame composed and encoded, from ``start``
    + 0.1 to 1); the shots' title card shows ``job.title``.

    Raises:
        StyleRejected: the graded frames score below the style's threshold.
        GenerationError: ``clip-*``.
    """
    sizes = [(r.width, r.height) for r in job_renditions(job)]

    card = card_frame(job.title, max(sizes), job.style) if job.title else None

    def cut(conformer: Conformer) -> Cut:
        return Cut(shots, open_source, sizes, conformer, fps=GENERATED_FPS, card=card)

    context.progress(start, "style")
    began = time.perf_counter()
    conformer, score, decode_s = grade(anchor, cut, job)
    total = None if score is None else score.total
    timings.add("decode", decode_s)
    timings.add("style", time.perf_counter() - began - decode_s)
    check_score(job, score, provenance(job, model, timings, total, context.worker))

    first = start + 0.1
    context.progress(first, "encode")
    began = time.perf_counter()
    final = cut(conformer)
    media = write_clip(
        job,
        context.media_dir,
        final.frames(frame_count(job)),
        sound,
        backend=job.backend,
        progress=lambda s: context.progress(
            first + (1 - first) * min(1.0, s / job.duration_s), "encode"
        ),
    )
    timings.add("decode", final.decode_s)
    timings.add("compose", final.compose_s)
    timings.add("encode", time.perf_counter() - began - final.compose_s - final.decode_s)
    context.progress(1.0, "done")
    return Output(media, provenance(job, model, timings, total, context.worker))


__all__ = [
    "MODEL",
    "CardClip",
    "MontageBackend",
    "Timings",
    "check_score",
    "cut_and_encode",
    "frame_count",
    "grade",
    "provenance",
    "render_card_clip",
]
