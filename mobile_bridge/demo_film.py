"""The demo film: a real, short clip for every media id the demo story plays, made offline.

``kinoroom film demo`` (and ``make run`` at set-up) calls `generate_demo_film`. Each
media id (scenes and their variants) gets a clip as long as its scene: a title card
(story title and scene name), then a moving picture with the scene name and a running
timecode burned in (`demo_picture`), and a music bed, an arpeggio whose key differs per
scene. Frames and sound are encoded straight into the stream renditions with the same
`RenditionWriter` as ingest (x264 ``ultrafast``: flat generated pictures need no more),
and recorded in the same manifest with source ``generated:demo@<DEMO_VERSION>`` and a
SHA-256 of the clip's parameters, so a second run skips every clip already made.

Clips are made in parallel, one process per core (spawned, so a server may call this
from an executor without forking its threads); x264 threads inside each.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from fractions import Fraction
from multiprocessing import get_context
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from mobile_bridge.demo_picture import ScenePicture
from mobile_bridge.media.clipnames import is_media_id
from mobile_bridge.media.encoding import encode_renditions
from mobile_bridge.media.errors import IngestError
from mobile_bridge.media.ingest import ClipResult
from mobile_bridge.media.manifest import (
    Manifest,
    MediaEntry,
    RenditionFile,
    Source,
    rendition_is_current,
)
from mobile_bridge.media.progress import ProgressBar
from mobile_bridge.media.renditions import AUDIO_RATE, Rendition
from narrative.story import Story

#: Bump when the pictures or the sound change: every demo clip is made again.
DEMO_VERSION = 1
DEMO_PRESET = "ultrafast"
DEMO_FPS = Fraction(30)
_STEPS = (0, 4, 7, 12, 7, 4)  # a major arpeggio, in semitones
_KEYS = (0, 5, 7, 2, 9, 4, 11, 3, 8, 1, 10, 6)  # each scene starts on another note
_NOTE_S = 0.5


@dataclass(frozen=True, slots=True)
class DemoClip:
    """One clip to generate: a media id of the story and how it looks and sounds."""

    media_id: str
    label: str
    duration_s: float
    index: int

    def digest(self, title: str) -> str:
        """SHA-256 of everything that shapes the clip: unchanged means skip."""
        params = {"version": DEMO_VERSION, "title": title, "fps": str(DEMO_FPS), **asdict(self)}
        return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()


def _label(scene_id: str) -> str:
    return scene_id.replace("_", " ")


def demo_clips(story: Story) -> list[DemoClip]:
    """A clip per media id the story plays, in story order; variants get their own name.

    A variant's name is its scene's plus what its media id adds to the scene's
    (``demo/05-dining-car-fast`` in ``dining_car`` → ``dining car · fast``). A media id
    used by several scenes is as long as the longest.

    Raises:
        IngestError: ``ingest-bad-id`` when a media name cannot be a folder name.
    """
    clips: dict[str, DemoClip] = {}

    def add(media_id: str, label: str, duration_s: float) -> None:
        if not is_media_id(media_id):
            raise IngestError("ingest-bad-id", media_id, "is not a clean media id")
        old = clips.get(media_id)
        if old is None:
            clips[media_id] = DemoClip(media_id, label, duration_s, len(clips))
        elif duration_s > old.duration_s:
            clips[media_id] = DemoClip(media_id, old.label, duration_s, old.index)

    for scene_id, scene in story.scenes.items():
        if scene.media is None:  # a text scene: words, no clip to make
            continue
        add(scene.media, _label(scene_id), float(scene.duration))
        base = scene.media.rsplit("/", 1)[-1]
        for variant in scene.variants:
            if variant.media is None:
                continue
            own = variant.media.rsplit("/", 1)[-1]
            extra = own[len(base) :].strip("-_ ") if own.startswith(base) else own
            add(variant.media, f"{_label(scene_id)} · {extra or 'variant'}", float(scene.duration))
    return list(clips.values())


def music_bed(clip: DemoClip) -> npt.NDArray[np.float32]:
    """The clip's sound, ``(2, samples)`` float32 at 48 kHz: an arpeggio and a drone."""
    samples = round(clip.duration_s * AUDIO_RATE)
    t = np.arange(samples, dtype=np.float64) / AUDIO_RATE
    root = 220.0 * 2 ** (_KEYS[clip.index % len(_KEYS)] / 12)
    note = (t // _NOTE_S).astype(np.int64)
    steps = np.asarray(_STEPS, dtype=np.float64)[note % len(_STEPS)]
    local = t - note * _NOTE_S
    envelope = np.minimum(1.0, local / 0.01) * np.exp(-4.0 * local)
    melody = 0.22 * envelope * np.sin(2 * np.pi * root * 2 ** (steps / 12) * local)
    drone = 0.07 * np.sin(2 * np.pi * root / 2 * t)
    pan = 0.5 + 0.3 * np.sin(2 * np.pi * t / 8)
    left = melody * (1 - pan) * 2 * 0.7 + drone
    right = melody * pan * 2 * 0.7 + drone
    fade = np.minimum(1.0, np.minimum(t, clip.duration_s - t) / 0.05).clip(0, 1)
    return np.stack([left * fade, right * fade]).astype(np.float32)


def render_clip(
    clip: DemoClip,
    title: str,
    media_dir: Path,
    renditions: Sequence[Rendition],
    progress: Callable[[float], None] | None = None,
) -> dict[str, RenditionFile]:
    """Draw, sound and encode one clip into every rendition; returns their manifest entries."""
    title_card_s = min(2.5, clip.duration_s / 4)
    pictures = [
        ScenePicture(
            r.width,
            r.height,
            title=title,
            label=clip.label,
            index=clip.index,
            fps=DEMO_FPS,
            title_card_s=title_card_s,
        )
        for r in renditions
    ]
    frames = (
        [av.VideoFrame.from_ndarray(picture.frame(n), format="yuv420p") for picture in pictures]
        for n in range(round(clip.duration_s * DEMO_FPS))
    )
    return encode_renditions(
        media_dir,
        clip.media_id,
        renditions,
        DEMO_FPS,
        frames,
        music_bed(clip),
        preset=DEMO_PRESET,
        progress=progress,
    )


def _render_job(
    clip: DemoClip, title: str, media_dir: Path, renditions: tuple[Rendition, ...]
) -> tuple[dict[str, RenditionFile], float]:
    began = time.perf_counter()
    done = render_clip(clip, title, media_dir, renditions)
    return done, time.perf_counter() - began


def generate_demo_film(
    story: Story,
    media_dir: Path,
    renditions: Sequence[Rendition],
    *,
    jobs: int | None = None,
    show_progress: bool = False,
) -> list[ClipResult]:
    """Make every missing demo clip of ``story`` and record them in the manifest.

    Args:
        story: the story whose media ids get clips (the bundled demo for the CLI).
        media_dir: the media folder.
        renditions: which renditions to make.
        jobs: clips made at once; default one per core. 1 works in this process.
        show_progress: a progress bar per clip on stderr (a line per clip with jobs > 1).

    Returns:
        A `ClipResult` per clip, in story order: ``encoded`` or ``skipped``.

    Raises:
        IngestError: a media id of the story cannot be a folder name.
        ManifestError: the media folder's manifest cannot be read.
    """
    manifest = Manifest.load(media_dir)
    results: dict[str, ClipResult] = {}
    todo: list[tuple[DemoClip, tuple[Rendition, ...], dict[str, RenditionFile]]] = []
    for clip in demo_clips(story):
        sha = clip.digest(story.title)
        old = manifest.media.get(clip.media_id)
        kept = dict(old.renditions) if old is not None and old.source.sha256 == sha else {}
        missing = tuple(
            r
            for r in renditions
            if r.name not in kept
            or not rendition_is_current(media_dir, kept[r.name], r.fingerprint(DEMO_PRESET))
        )
        if missing:
            todo.append((clip, missing, kept))
        else:
            results[clip.media_id] = ClipResult(
                "generated", clip.media_id, "skipped", (), clip.duration_s
            )
    workers = max(1, min(jobs or os.cpu_count() or 1, len(todo)))

    def record(
        clip: DemoClip,
        made: dict[str, RenditionFile],
        kept: dict[str, RenditionFile],
        elapsed: float,
    ) -> None:
        nonlocal manifest
        entry = MediaEntry(
            source=Source(
                path=f"generated:demo@{DEMO_VERSION}", size=0, sha256=clip.digest(story.title)
            ),
            duration_s=clip.duration_s,
            renditions={**kept, **made},
        )
        manifest = Manifest.record(media_dir, clip.media_id, entry)
        results[clip.media_id] = ClipResult(
            "generated", clip.media_id, "encoded", tuple(made), clip.duration_s, elapsed
        )

    if workers == 1:
        for clip, missing, kept in todo:
            bar = ProgressBar(clip.media_id, clip.duration_s) if show_progress else None
            began = time.perf_counter()
            made = render_clip(clip, story.title, media_dir, missing, bar.update if bar else None)
            elapsed = time.perf_counter() - began
            if bar is not None:
                bar.finish(f"{', '.join(made)} in {elapsed:.1f} s")
            record(clip, made, kept, elapsed)
    elif todo:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            futures = [
                (clip, kept, pool.submit(_render_job, clip, story.title, media_dir, missing))
                for clip, missing, kept in todo
            ]
            for clip, kept, future in futures:
                made, elapsed = future.result()
                if show_progress:
                    ProgressBar(clip.media_id, clip.duration_s).finish(
                        f"{', '.join(made)} in {elapsed:.1f} s"
                    )
                record(clip, made, kept, elapsed)
    return [results[clip.media_id] for clip in demo_clips(story)]


__all__ = [
    "DEMO_FPS",
    "DEMO_PRESET",
    "DEMO_VERSION",
    "DemoClip",
    "demo_clips",
    "generate_demo_film",
    "music_bed",
    "render_clip",
]
