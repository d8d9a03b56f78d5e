"""The cut: shots planned from a seed, slow pans and zooms, crossfades and title cards.

Both picture backends end here. The montage cuts shots from the film's clips, the
diffusion backend from the stills (or short videos) its model made; either way the clip
is a timeline of `Shot` s, evenly spaced at the style's pacing, each overlapping the
next by a crossfade, optionally after a title card:

    card ─┐╲ shot 0 ───┐╲ shot 1 ───┐╲ shot 2 ─────
          └╱───────────┘╱───────────┘╱
          ↑ fade_s centred on each cut

`plan_shots` is pure: the same seed gives the same shots (which source, where in it,
which motion), another seed other ones. A `Motion` is the Ken Burns move: a crop of the
source with the output's aspect ratio (the largest that fits, divided by the zoom),
drifting linearly from one zoom and position to another over the shot; slow enough
(about 4 % of the picture a second) to read as a camera move, not a jolt. `Cut` renders
frame ``n`` of every rendition at once: each visible shot's source frame is colour-graded
once (`style.Conformer.colour`), cropped and resized to each rendition with Pillow (a
fractional crop box, so the move is smooth), blended across a cut, then grained.
"""

from __future__ import annotations

import itertools
import math
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

import numpy as np
import numpy.typing as npt
from PIL import Image

from genmodels.style import Conformer

Frame = npt.NDArray[np.uint8]
Sound = npt.NDArray[np.float32]
Size = tuple[int, int]  # width, height
CARD = -1  # `Shot.source` of the title card
FADE_S = 0.5


class ShotSource(Protocol):
    """Pictures a shot is cut from: `clips.FrameReader`, `Still`, `Frames`."""

    size: Size
    duration_s: float

    def frame_at(self, t_s: float) -> Frame: ...

    def close(self) -> None: ...


class Still:
    """One picture held for ever (a generated keyframe)."""

    def __init__(self, frame: Frame) -> None:
        self.frame, self.size, self.duration_s = frame, (frame.shape[1], frame.shape[0]), math.inf

    def frame_at(self, t_s: float) -> Frame:
        return self.frame

    def close(self) -> None:
        pass


class Frames:
    """Pictures spread evenly over ``duration_s`` (a generated video of few frames)."""

    def __init__(self, frames: Sequence[Frame], duration_s: float) -> None:
        self.frames, self.duration_s = list(frames), duration_s
        self.size = (frames[0].shape[1], frames[0].shape[0])

    def frame_at(self, t_s: float) -> Frame:
        index = int(t_s / self.duration_s * len(self.frames))
        return self.frames[min(len(self.frames) - 1, max(0, index))]

    def close(self) -> None:
        pass


@dataclass(frozen=True, slots=True)
class Motion:
    """A Ken Burns move: zoom (1 = the largest crop that fits) and where the crop sits
    in the room it leaves (0..1 across, 0..1 down), at the shot's start and end."""

    zoom: tuple[float, float]
    x: tuple[float, float]
    y: tuple[float, float]

    def box(self, u: float, source: Size, aspect: float) -> tuple[float, float, float, float]:
        """The crop ``(left, top, right, bottom)`` in source pixels at progress ``u`` (0..1)."""
        w, h = source
        base_w, base_h = (h * aspect, float(h)) if w / h > aspect else (float(w), w / aspect)
        zoom = self.zoom[0] + (self.zoom[1] - self.zoom[0]) * u
        cw, ch = base_w / zoom, base_h / zoom
        left = (w - cw) * (self.x[0] + (self.x[1] - self.x[0]) * u)
        top = (h - ch) * (self.y[0] + (self.y[1] - self.y[0]) * u)
        return left, top, left + cw, top + ch


@dataclass(frozen=True, slots=True)
class Shot:
    """One layer of the timeline: visible from ``start_s`` to ``end_s`` (fades included)."""

    source: int  # index into the sources, or CARD
    start_s: float
    end_s: float
    source_start_s: float
    motion: Motion


def _motion(rng: random.Random, length_s: float) -> Motion:
    travel = min(0.25, 0.04 * length_s)  # ~4 % of the picture a second
    kind = rng.choice(("in", "out", "left", "right"))
    y = (rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7))
    if kind in ("in", "out"):
        zoom = (1.0, 1.0 + travel) if kind == "in" else (1.0 + travel, 1.0)
        x = (rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7))
        return Motion(zoom, x, y)
    zoom_level = 1 / (1 - travel)  # leaves exactly `travel` of the width to pan across
    return Motion((zoom_level, zoom_level), (0.0, 1.0) if kind == "right" else (1.0, 0.0), y)


def plan_shots(
    duration_s: float,
    source_durations: Sequence[float],
    *,
    pacing_s: float,
    seed: int,
    card_s: float = 0.0,
    fade_s: float = FADE_S,
) -> list[Shot]:
    """The shots of a clip of ``duration_s``: a card for ``card_s``, then shots cut from
    the sources (round robin in a seeded order, never the same twice running when there
    are two or more) every ``pacing_s`` or so. Without sources the card fills the clip."""
    rng = random.Random(seed)
    if not source_durations or card_s >= duration_s:
        return [Shot(CARD, 0.0, duration_s, 0.0, Motion((1.0, 1.0), (0.5, 0.5), (0.5, 0.5)))]
    count = max(1, round((duration_s - card_s) / pacing_s))
    length = (duration_s - card_s) / count
    fade = min(fade_s, length / 2, card_s if card_s > 0 else fade_s)
    cuts = [card_s + k * length for k in range(count + 1)]
    shots: list[Shot] = []
    if card_s > 0:
        shots.append(Shot(CARD, 0.0, card_s + fade / 2, 0.0, _motion(rng, card_s)))
    order = list(range(len(source_durations)))
    rng.shuffle(order)
    for k in range(count):
        start = 0.0 if k == 0 and card_s == 0 else cuts[k] - fade / 2
        end = duration_s if k == count - 1 else cuts[k + 1] + fade / 2
        source = order[k % len(order)]
        room = source_durations[source] - (end - start)
        offset = rng.uniform(0, room) if room > 0 else 0.0
        shots.append(Shot(source, start, end, offset, _motion(rng, end - start)))
    return shots


def sample_frames(shots: Sequence[Shot], count: int, frames: int, fps: Fraction) -> list[int]:
    """``count`` frame indices spread evenly over the footage (past the card), each moved
    out of any dissolve to the nearer side: a dissolve mixes two shots' colours into ones
    neither has, which says nothing about either shot's look."""
    footage = [shot for shot in shots if shot.source != CARD]
    if not footage:
        return [frames * (2 * k + 1) // (2 * count) for k in range(count)]
    first = min(frames - 1, round(footage[0].start_s * fps))
    picks = [first + (frames - first) * (2 * k + 1) // (2 * count) for k in range(count)]
    dissolves = [(b.start_s, a.end_s) for a, b in itertools.pairwise(shots) if b.start_s < a.end_s]
    moved = []
    for n in picks:
        t = n / float(fps)
        for low, high in dissolves:
            if low <= t < high:
                t = low - 1 / float(fps) if t - low < high - t else high
        moved.append(min(frames - 1, max(0, round(t * float(fps)))))
    return moved


def _shrink(image: Image.Image, size: Size) -> Image.Image:
    """``image`` at ``size``: an exact box average for whole factors (720p to 360p), which
    keeps the grain a 360p frame would have had, else an antialiased resize."""
    k = image.width // size[0]
    if k > 1 and image.width == k * size[0] and image.height == k * size[1]:
        return image.reduce(k)
    return image.resize(size, Image.Resampling.BILINEAR)


class Cut:
    """Renders the frames of a planned clip at several sizes (see the module docstring).

    Each frame is composed once, at the largest size (crop and resize, dissolve, grain,
    all in Pillow), and shrunk to the other sizes.

    Args:
        shots: from `plan_shots`.
        open_source: opens source ``i`` (a shot of its own gets its own reader, so two
            shots of one clip can crossfade).
        sizes: the output sizes, one per rendition, all of one aspect ratio.
        conformer: the style grade (`style.identity_conformer` without a style).
        card: the card picture at the largest size (needed when a shot is the CARD).
        fps: the output frame rate.
    """

    def __init__(
        self,
        shots: Sequence[Shot],
        open_source: Callable[[int], ShotSource],
        sizes: Sequence[Size],
        conformer: Conformer,
        *,
        fps: Fraction,
        card: Frame | None = None,
    ) -> None:
        self.shots, self.sizes, self.fps = list(shots), list(sizes), fps
        self._size = max(sizes)
        if any(shot.source == CARD for shot in shots) and card is None:
            raise ValueError("a plan with a card needs the card picture")
        self._card = None if card is None else Image.fromarray(card).resize(self._size)
        self._open, self._conformer = open_source, conformer
        self._live: dict[int, ShotSource] = {}
        self._graded: dict[int, tuple[Frame, Image.Image]] = {}
        self.compose_s = 0.0  # seconds spent composing, decoding excluded
        self.decode_s = 0.0

    def _layer(self, k: int, t: float) -> Image.Image:
        shot = self.shots[k]
        if shot.source == CARD:
            assert self._card is not None
            return self._card
        source = self._live.get(k)
        if source is None:
            source = self._live[k] = self._open(shot.source)
        began = time.perf_counter()
        raw = source.frame_at(shot.source_start_s + t - shot.start_s)
        self.decode_s += time.perf_counter() - began
        held = self._graded.get(k)
        if held is None or held[0] is not raw:  # grade each source frame once
            held = self._graded[k] = (raw, Image.fromarray(self._conformer.colour(raw)))
        u = min(1.0, max(0.0, (t - shot.start_s) / max(1e-9, shot.end_s - shot.start_s)))
        box = shot.motion.box(u, source.size, self._size[0] / self._size[1])
        return held[1].resize(self._size, Image.Resampling.BILINEAR, box=box)

    def frame(self, n: int) -> list[Frame]:
        """Frame ``n`` (at ``n / fps`` s) for every size."""
        began, decoded = time.perf_counter(), self.decode_s
        t = n / float(self.fps)
        visible = [k for k, s in enumerate(self.shots) if s.start_s <= t < s.end_s]
        visible = visible or [len(self.shots) - 1]
        for k in [k for k in self._live if k not in visible]:  # shots already over
            self._live.pop(k).close()
            self._graded.pop(k, None)
        image = self._layer(visible[0], t)
        if len(visible) > 1:
            incoming = self.shots[visible[1]]
            fade = self.shots[visible[0]].end_s - incoming.start_s
            weight = (t - incoming.start_s) / fade if fade > 0 else 1.0
            image = Image.blend(image, self._layer(visible[1], t), min(1.0, max(0.0, weight)))
        image = self._conformer.grain_image(image, n)
        out = [
            np.asarray(image if size == self._size else _shrink(image, size), np.uint8)
            for size in self.sizes
        ]
        self.compose_s += time.perf_counter() - began - (self.decode_s - decoded)
        return out

    def frames(self, count: int) -> Iterator[list[Frame]]:
        """Frames ``0 .. count-1``; the sources are closed at the end."""
        try:
            for n in range(count):
                yield self.frame(n)
        finally:
            self.close()

    def close(self) -> None:
        for source in self._live.values():
            source.close()
        self._live.clear()
        self._graded.clear()


def mix_sound(
    shots: Sequence[Shot], sounds: Sequence[Sound], duration_s: float, rate: int
) -> Sound:
    """The clip's sound: each shot's slice of its source's sound, faded across cuts like the
    picture; silence under the card and where a source has none."""
    out = np.zeros((2, round(duration_s * rate)), np.float32)
    for k, shot in enumerate(shots):
        if shot.source == CARD:
            continue
        start, stop = round(shot.start_s * rate), min(out.shape[1], round(shot.end_s * rate))
        first = round(shot.source_start_s * rate)
        piece = sounds[shot.source][:, first : first + stop - start]
        gain = np.ones(piece.shape[1], np.float32)
        for other in [*shots[max(0, k - 1) : k], *shots[k + 1 : k + 2]]:
            lo, hi = max(shot.start_s, other.start_s), min(shot.end_s, other.end_s)
            if hi <= lo:
                continue
            t = shot.start_s + np.arange(piece.shape[1], dtype=np.float32) / rate
            ramp = np.clip((t - lo) / (hi - lo), 0, 1)
            gain *= np.where(
                (t >= lo) & (t < hi), ramp if other.start_s < shot.start_s else 1 - ramp, 1
            )
        out[:, start : start + piece.shape[1]] += piece * gain
    return out


__all__ = [
    "CARD",
    "FADE_S",
    "Cut",
    "Frames",
    "Motion",
    "Shot",
    "ShotSource",
    "Still",
    "mix_sound",
    "plan_shots",
    "sample_frames",
]
