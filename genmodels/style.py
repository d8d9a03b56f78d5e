"""The style anchor: the director's look, measured, so generated shots can keep it.

A story's ``style`` block names reference clips, a palette, a grain level and a pacing.
`Anchor.from_frames` turns frames sampled from the references into numbers, all taken
at the 360-line analysis scale (the phones' rendition) on every 4th pixel of every 4th
row, in CIE L*a*b* (sRGB, D65; `srgb_to_lab`), where distances are roughly perceptual:

- **colour**: the mean and standard deviation of L*, a*, b*, and a joint histogram
  (8 L* × 12 a* × 12 b* bins, soft-assigned to the 8 nearest bin centres so a colour on a
  bin edge does not flip between bins after compression);
- **palette coverage**: how close pixels lie to the given palette colours, the mean of
  ``exp(-(ΔE/25)²)`` with ΔE (CIE76) to the nearest palette colour;
- **grain**: the luma noise level, ``1.4826 · median|r| / √(72/81)`` where
  ``r = Y − box3×3(Y)``: the median ignores the few strong edges, the factor makes it the
  standard deviation of white noise added to the picture. The target is the larger of
  the references' level and the declared ``grain`` × 8 (8-bit levels);
- **pacing**: the declared shot length (default 2.5 s).

**Score** (`Anchor.score`, 0..1)::

    score = (0.5·C + 0.25·P + 0.25·G) / (0.5 + 0.25 + 0.25)     (P's weight 0 without palette)

- ``C = Σ_bins min(p, 4·q)``, ``p`` the clip's histogram and ``q`` the film's: the share
  of the clip's colours that the film shows at no less than a quarter of the clip's
  density. One-sided on purpose: a fill-in shot may show one corner of the film (its
  red-lit scene) without being off-style, which a symmetric measure (Bhattacharyya,
  intersection) would punish; colours the film never shows count for nothing.
- ``P = min(1, (cov + 0.01) / (cov_ref + 0.01))``: palette coverage relative to the
  references', so a loose palette does not penalise the film itself.
- ``G = (min(g, g_ref) + 1) / (max(g, g_ref) + 1)``: grain levels within a level match.

**Conform** (`Anchor.conformer`): Reinhard's colour transfer in L*a*b*, each channel
shifted and scaled from the generated clip's statistics towards the anchor's,
``(x − μ_gen)·(1 + s·(σ_ref/σ_gen − 1)) + μ_gen + s·Δ``, then grain added up to the
anchor's level. Global transfer assumes the clip should have the whole film's
statistics, which drags a one-scene shot to the film's average; so the strength ``s``
(0, ¼, ½, ¾ or 1) is the smallest that scores best on the clip's sample frames: a grade
goes only as far as it brings the clip closer. Grading nudges, it does not repaint:
scales stay within ×½..×2 and shifts within 25 L*, 30 a*/b*, so footage that needs more
than a grade (another film's palette, noise) still scores low and is rejected. The
colour transform is fixed per clip (no flicker) and applied through a 64³ lookup table
of *differences* (``out = in + D[in >> 2]``): the picture keeps its 8-bit gradients and
only the correction is quantised, which makes it a gather and an add per pixel. Grain
is monochrome Gaussian noise from a bank of 8 planes seeded by the job, drawn at the
analysis scale and repeated over 2×2 pixels at 720p (3×3 at 1080p): box-averaged back to
360 lines, as `analysis_frame` does, every rendition carries the same grain.

Pure numpy and Pillow (resizing to the analysis scale); no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageChops

from narrative.story import Style

Frame = npt.NDArray[np.uint8]
Floats = npt.NDArray[np.float32]

ANALYSIS_HEIGHT = 360
PIXEL_STEP = 4
DEFAULT_PACING_S = 2.5
GRAIN_FULL = 8.0  # luma std, 8-bit levels, of grain 1.0
_BINS = np.array([8, 12, 12])
_LOW = np.array([0.0, -96.0, -96.0], np.float32)
_HIGH = np.array([100.0, 96.0, 96.0], np.float32)
_MAX_SCALE = 2.0
_MAX_SHIFT = np.array([25.0, 30.0, 30.0], np.float32)
_WHITE = np.array([0.95047, 1.0, 1.08883], np.float32)  # D65
_RGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
     [0.0193339, 0.1191920, 0.9503041]], np.float32
)  # fmt: skip
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ).astype(np.float32)
_DELTA = 6 / 29
_SUPPORT = 4.0  # C counts a colour in full where the film has a quarter of the clip's share
_STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0)
_NOISE_GAIN = float(np.sqrt(72 / 81))  # residual std of unit white noise after box3 removal
_BANK = 8


def srgb_to_lab(rgb: npt.ArrayLike) -> Floats:
    """CIE L*a*b* (D65) of sRGB values in 0..255, shape ``(..., 3)``."""
    c = np.asarray(rgb, np.float32) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    t = (linear @ _RGB_TO_XYZ.T) / _WHITE
    f = np.where(t > _DELTA**3, np.cbrt(t), t / (3 * _DELTA**2) + 4 / 29)
    lab = np.stack(
        [116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1
    )
    return lab.astype(np.float32)


def lab_to_srgb(lab: npt.ArrayLike) -> Floats:
    """sRGB values in 0..255 (not clipped: out-of-gamut colours fall outside) of L*a*b*."""
    lab = np.asarray(lab, np.float32)
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], -1)
    t = np.where(f > _DELTA, f**3, 3 * _DELTA**2 * (f - 4 / 29)) * _WHITE
    linear = np.clip(t @ _XYZ_TO_RGB.T, 0, None)
    c = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    return np.asarray(c * 255, np.float32)


def hex_to_rgb(colour: str) -> tuple[int, int, int]:
    """``#rrggbb`` as a tuple of 0..255."""
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def analysis_frame(frame: Frame) -> Frame:
    """``frame`` at the analysis scale: taller frames shrunk to 360 lines, aspect kept
    (smaller ones stay as they are: upscaling would smooth their grain away)."""
    h, w = frame.shape[:2]
    if h <= ANALYSIS_HEIGHT:
        return frame
    size = (max(1, round(w * ANALYSIS_HEIGHT / h)), ANALYSIS_HEIGHT)
    return np.asarray(Image.fromarray(frame).resize(size, Image.Resampling.BOX))


def _lab_pixels(frames: Sequence[Frame]) -> Floats:
    picked = [analysis_frame(f)[::PIXEL_STEP, ::PIXEL_STEP].reshape(-1, 3) for f in frames]
    return srgb_to_lab(np.concatenate(picked))


def grain_level(frames: Sequence[Frame]) -> float:
    """The luma noise level of ``frames`` (see the module docstring), 8-bit levels."""
    levels = []
    for frame in frames:
        y = analysis_frame(frame).astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        box = sum(y[1 + dy : y.shape[0] - 1 + dy, 1 + dx : y.shape[1] - 1 + dx]
                  for dy in (-1, 0, 1) for dx in (-1, 0, 1)) / 9  # fmt: skip
        residual = y[1:-1, 1:-1] - box
        levels.append(1.4826 * float(np.median(np.abs(residual[::2, ::2]))) / _NOISE_GAIN)
    return float(np.mean(levels)) if levels else 0.0


def _histogram(lab: Floats) -> Floats:
    pos = (lab - _LOW) / (_HIGH - _LOW) * _BINS - 0.5  # in bin-centre units
    pos = np.clip(pos, 0, _BINS - 1)
    low = np.minimum(pos.astype(np.int64), _BINS - 2)
    high = pos - low  # weight of the upper neighbour on each axis
    hist = np.zeros(int(np.prod(_BINS)), np.float64)
    for corner in range(8):
        b = [(corner >> axis) & 1 for axis in range(3)]
        w = [high[:, axis] if b[axis] else 1 - high[:, axis] for axis in range(3)]
        index = ((low[:, 0] + b[0]) * _BINS[1] + low[:, 1] + b[1]) * _BINS[2] + low[:, 2] + b[2]
        hist += np.bincount(index, weights=w[0] * w[1] * w[2], minlength=hist.size)
    return np.asarray(hist / max(hist.sum(), 1e-12), np.float32)


def _coverage(lab: Floats, palette: Floats) -> float:
    if len(palette) == 0:
        return 0.0
    distance = np.sqrt(((lab[:, None, :] - palette[None, :, :]) ** 2).sum(-1)).min(axis=1)
    return float(np.mean(np.exp(-((distance / 25.0) ** 2))))


@dataclass(frozen=True, slots=True)
class StyleScore:
    """A score and its parts (each 0..1; ``palette`` None when the style has none)."""

    total: float
    colour: float
    palette: float | None
    grain: float


@dataclass(frozen=True, slots=True, eq=False)
class Anchor:
    """The measured look of a film (module docstring); build with `from_frames`."""

    mean: Floats
    std: Floats
    histogram: Floats
    palette: Floats  # L*a*b*, one row per palette colour
    coverage: float
    grain: float
    pacing_s: float
    threshold: float

    @classmethod
    def from_frames(cls, frames: Sequence[Frame], style: Style) -> Anchor:
        """The anchor of ``style`` from frames of its reference clips (any size, RGB)."""
        if not frames:
            raise ValueError("an anchor needs at least one reference frame")
        lab = _lab_pixels(frames)
        rgb = np.array([hex_to_rgb(c) for c in style.palette], np.float32).reshape(-1, 3)
        palette = srgb_to_lab(rgb)
        return cls(
            mean=lab.mean(axis=0),
            std=lab.std(axis=0),
            histogram=_histogram(lab),
            palette=palette,
            coverage=_coverage(lab, palette),
            grain=max(grain_level(frames), style.grain * GRAIN_FULL),
            pacing_s=style.pacing_s or DEFAULT_PACING_S,
            threshold=style.threshold,
        )

    def _colour_terms(self, lab: Floats) -> tuple[float, float | None]:
        colour = float(np.minimum(_histogram(lab), _SUPPORT * self.histogram).sum())
        if not len(self.palette):
            return colour, None
        coverage = _coverage(lab, self.palette)
        return colour, min(1.0, (coverage + 0.01) / (self.coverage + 0.01))

    def _combine(self, colour: float, palette: float | None, grain: float) -> float:
        parts, weights = 0.5 * colour + 0.25 * grain, 0.75
        if palette is not None:
            parts, weights = parts + 0.25 * palette, 1.0
        return min(1.0, max(0.0, parts / weights))

    def score_parts(self, frames: Sequence[Frame]) -> StyleScore:
        """How well ``frames`` keep this look, with its parts (module docstring)."""
        colour, palette = self._colour_terms(_lab_pixels(frames))
        g = grain_level(frames)
        grain = (min(g, self.grain) + 1) / (max(g, self.grain) + 1)
        return StyleScore(self._combine(colour, palette, grain), colour, palette, grain)

    def score(self, frames: Sequence[Frame]) -> float:
        """The style score of ``frames``, 0..1; below ``threshold`` a clip is rejected."""
        return self.score_parts(frames).total

    def conformer(self, frames: Sequence[Frame], *, seed: int = 0) -> Conformer:
        """The grade that takes a clip whose frames look like ``frames`` to this anchor
        (colour at the strength that scores best on them, then grain)."""
        lab = _lab_pixels(frames)
        mean, std = lab.mean(axis=0), lab.std(axis=0)
        scale = np.clip(self.std / np.maximum(std, 1e-3), 1 / _MAX_SCALE, _MAX_SCALE)
        shift = np.clip(self.mean - mean, -_MAX_SHIFT, _MAX_SHIFT)

        def graded(x: Floats, strength: float) -> Floats:
            out = (x - mean) * (1 + strength * (scale - 1)) + mean + strength * shift
            return np.clip(lab_to_srgb(out), 0, 255)

        def merit(strength: float) -> float:
            return self._combine(*self._colour_terms(srgb_to_lab(graded(lab, strength))), 1.0)

        merits = {s: merit(s) for s in _STRENGTHS}
        strength = min(s for s in _STRENGTHS if merits[s] >= max(merits.values()) - 0.005)
        delta = np.zeros((64**3, 3), np.int16)
        if strength > 0:
            levels = np.arange(64, dtype=np.float32) * 4 + 1.5
            grid = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1).reshape(-1, 3)
            delta = np.rint(graded(srgb_to_lab(grid), strength) - grid).astype(np.int16)
        colour_only = Conformer(delta, 0.0, seed)
        current = grain_level([colour_only.colour(f) for f in frames])
        grain = float(np.sqrt(max(0.0, self.grain**2 - current**2)))
        return Conformer(delta, grain, seed, strength)

    def conform(self, frames: Sequence[Frame], *, seed: int = 0) -> list[Frame]:
        """``frames`` colour-matched to the anchor and given its grain."""
        conformer = self.conformer(frames, seed=seed)
        return [conformer(frame, i) for i, frame in enumerate(frames)]


@dataclass(eq=False)
class Conformer:
    """A fixed grade: a colour lookup of differences and a grain level (`Anchor.conformer`).

    Attributes:
        delta: ``(64³, 3)`` int16, what to add to a pixel whose channels ``>> 2`` index it.
        grain_std: standard deviation of the grain added, 8-bit levels at 360 lines.
        seed: seeds the grain bank (same seed, same grain).
        strength: how far the colour grade goes (0..1), for the record.
    """

    delta: npt.NDArray[np.int16]
    grain_std: float
    seed: int
    strength: float = 0.0
    _banks: dict[tuple[int, int], list[Image.Image]] = field(default_factory=dict)
    _identity: bool = False
    _packed: npt.NDArray[np.uint32] = field(default_factory=lambda: np.zeros(0, np.uint32))

    def __post_init__(self) -> None:
        self._identity = not self.delta.any()
        # The three differences of an entry, offset by 128, in one uint32: one gather a
        # pixel instead of three (a grade never moves a channel by more than 127 levels).
        d = np.clip(self.delta.astype(np.int32), -128, 127) + 128
        self._packed = (d[:, 0] | (d[:, 1] << 8) | (d[:, 2] << 16)).astype("<u4")

    def colour(self, frame: Frame) -> Frame:
        """``frame`` with the colour grade applied."""
        if self._identity:
            return frame
        q = frame >> 2
        index = (q[..., 0].astype(np.int32) << 12) | (q[..., 1].astype(np.int32) << 6) | q[..., 2]
        packed = self._packed[index]
        delta = packed.view(np.uint8).reshape(*packed.shape, 4)[..., :3]  # "<u4": low byte first
        out = frame.astype(np.int16) + delta
        out -= 128
        return np.asarray(np.clip(out, 0, 255, out=out), np.uint8)

    def _bank(self, w: int, h: int) -> list[Image.Image]:
        bank = self._banks.get((w, h))
        if bank is None:
            k = max(1, round(h / ANALYSIS_HEIGHT))
            bank = []
            for i in range(_BANK):
                # Drawn on the 360-line grid whatever the size: a 720p frame's grain,
                # box-averaged to 360p, is the 360p frame's grain, exactly.
                rng = np.random.default_rng([self.seed, i])
                plane = rng.normal(0, self.grain_std, (-(-h // k), -(-w // k)))
                plane = np.repeat(np.repeat(plane, k, axis=0), k, axis=1)[:h, :w]
                offset = np.clip(np.rint(plane) + 128, 0, 255).astype(np.uint8)
                bank.append(Image.fromarray(np.repeat(offset[..., None], 3, axis=2)))
            self._banks[(w, h)] = bank
        return bank

    def grain_image(self, image: Image.Image, index: int) -> Image.Image:
        """``image`` (RGB) with grain plane ``index`` (mod the bank) added."""
        if self.grain_std < 0.5:
            return image
        noise = self._bank(image.width, image.height)[index % _BANK]
        return ImageChops.add(image, noise, scale=1.0, offset=-128)  # one clipped C pass

    def grain(self, frame: Frame, index: int) -> Frame:
        """``frame`` with grain plane ``index`` (mod the bank) added."""
        if self.grain_std < 0.5:
            return frame
        return np.asarray(self.grain_image(Image.fromarray(frame), index), np.uint8)

    def __call__(self, frame: Frame, index: int) -> Frame:
        """``frame`` colour-graded, then grained."""
        return self.grain(self.colour(frame), index)


def identity_conformer() -> Conformer:
    """A grade that changes nothing (a job without a style)."""
    return Conformer(np.zeros((64**3, 3), np.int16), 0.0, 0)


__all__ = [
    "ANALYSIS_HEIGHT",
    "DEFAULT_PACING_S",
    "GRAIN_FULL",
    "Anchor",
    "Conformer",
    "StyleScore",
    "analysis_frame",
    "grain_level",
    "hex_to_rgb",
    "identity_conformer",
    "lab_to_srgb",
    "srgb_to_lab",
]
