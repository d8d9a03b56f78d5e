"""Heart rate from the camera (remote photoplethysmography) by the POS method.

Each heartbeat pushes blood into the skin's capillaries, which absorb a little more
green (and some red and blue) light: the skin's colour pulses by a fraction of a percent.
The mean colour of a few skin patches over ~10 s therefore carries the pulse, buried
under changes of light and small movements.

POS, "Plane-Orthogonal-to-Skin" (W. Wang, A. C. den Brinker, S. Stuijk, G. de Haan,
*Algorithmic Principles of Remote PPG*, IEEE TBME 64(7), 2017), separates them: in each
short window (1.6 s) the RGB trace is divided by its mean (temporal normalisation, which
cancels the skin tone and the light's colour), then projected onto the plane orthogonal
to the skin-tone direction ``[1, 1, 1]`` with the fixed projection
``S1 = G − B``, ``S2 = G + B − 2R``; intensity changes (light, distance) lie along
``[1, 1, 1]`` and vanish. The two projections are combined as
``h = S1 + (σ(S1)/σ(S2))·S2`` (alpha tuning, which cancels the specular part), and the
windows are overlap-added into one pulse signal.

The pulse signal is band-passed to 0.7–4 Hz (42–240 bpm) and the strongest spectral
peak gives the rate. Confidence is the peak's signal-to-noise ratio in the band
(G. de Haan, V. Jeanne, *Robust pulse rate from chrominance-based rPPG*, IEEE TBME
60(10), 2013: the energy within ±0.1 Hz of the peak and ±0.2 Hz of its first harmonic
over the rest of the band), mapped to 0–1.

Sampling: the pulse needs ≥ 8 colour samples per second (Nyquist for 240 bpm, with
margin), more than the 2–4 Hz at which faces are analysed. Skin means are cheap (a few
µs per frame), so the viewer pipeline samples skin on every camera frame, reusing the
patches of the last analysed frame; `PulseTracker` resamples the irregular timestamps
onto a uniform grid before POS.

Pure: numpy only, no I/O, time passed in.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from affect.errors import TraceError

FloatArray = npt.NDArray[np.float64]

BAND_HZ = (0.7, 4.0)
POS_WINDOW_S = 1.6
WINDOW_S = 10.0
MIN_TRACE_S = 6.0
MIN_RATE_HZ = 8.0
RESAMPLE_HZ = 30.0

# MediaPipe face mesh (478 points) landmarks the patches are centred on: mid-forehead,
# and the two cheeks below the eyes; sizes are fractions of the face's width.
FOREHEAD = 151
CHEEKS = (50, 280)
_FOREHEAD_SIZE = (0.28, 0.10)
_CHEEK_SIZE = (0.14, 0.12)


@dataclass(frozen=True, slots=True)
class Box:
    """A pixel rectangle ``[x0, x1) × [y0, y1)``."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def area(self) -> int:
        return max(0, self.x1 - self.x0) * max(0, self.y1 - self.y0)


@dataclass(frozen=True, slots=True)
class PulseEstimate:
    """A heart rate and how far to trust it (``confidence`` 0–1 from ``snr_db``)."""

    bpm: float
    snr_db: float
    confidence: float


def skin_patches(points_px: npt.NDArray[np.floating], frame_shape: tuple[int, ...]) -> list[Box]:
    """Forehead and cheek boxes from a MediaPipe face mesh in pixel coordinates.

    Args:
        points_px: 478×2 (or ×3) landmarks, x and y in pixels.
        frame_shape: the frame's shape (height first); boxes are clipped to it.

    Raises:
        TraceError: fewer landmarks than the face mesh has.
    """
    if points_px.ndim != 2 or points_px.shape[0] <= max(FOREHEAD, *CHEEKS):
        raise TraceError(f"landmarks of shape {points_px.shape} are not a face mesh")
    width = float(np.ptp(points_px[:, 0]))
    height, frame_width = int(frame_shape[0]), int(frame_shape[1])
    boxes = []
    for index, (fw, fh) in ((FOREHEAD, _FOREHEAD_SIZE), *((c, _CHEEK_SIZE) for c in CHEEKS)):
        cx, cy = float(points_px[index, 0]), float(points_px[index, 1])
        half_w, half_h = fw * width / 2, fh * width / 2
        boxes.append(
            Box(
                x0=min(frame_width, max(0, round(cx - half_w))),
                y0=min(height, max(0, round(cy - half_h))),
                x1=min(frame_width, max(0, round(cx + half_w))),
                y1=min(height, max(0, round(cy + half_h))),
            )
        )
    return boxes


def mean_rgb(frame: npt.NDArray[np.uint8], boxes: list[Box]) -> FloatArray | None:
    """Mean R, G, B over the pixels of all boxes (area-weighted), None if they are empty.

    Raises:
        TraceError: the frame is not H×W×3.
    """
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise TraceError(f"frame shape {frame.shape} is not H×W×3")
    total = np.zeros(3)
    pixels = 0
    for box in boxes:
        if box.area:
            patch = frame[box.y0 : box.y1, box.x0 : box.x1].reshape(-1, 3)
            total += patch.sum(axis=0, dtype=np.float64)
            pixels += patch.shape[0]
    return total / pixels if pixels else None


def pos(rgb: npt.NDArray[np.floating], fps: float) -> FloatArray:
    """The POS pulse signal of an N×3 RGB trace sampled uniformly at ``fps``.

    Raises:
        TraceError: the trace is not N×3, is shorter than one POS window, or has a
            non-positive channel mean.
    """
    trace = np.asarray(rgb, dtype=np.float64)
    n = trace.shape[0] if trace.ndim == 2 else 0
    window = math.ceil(POS_WINDOW_S * fps)
    if trace.ndim != 2 or trace.shape[1] != 3 or n < window or window < 2:
        raise TraceError(f"trace of shape {trace.shape} at {fps} fps is shorter than a window")
    if not np.all(np.isfinite(trace)) or np.any(trace.mean(axis=0) <= 0):
        raise TraceError("trace has non-finite or non-positive colour")
    # every window of `window` samples, one step apart (the paper's overlap-add)
    blocks = np.lib.stride_tricks.sliding_window_view(trace, window, axis=0)  # M×3×window
    mean = blocks.mean(axis=2, keepdims=True)
    usable = np.all(mean[:, :, 0] > 0, axis=1)  # a black stretch has nothing to normalise
    cn = np.divide(blocks, mean, out=np.ones_like(blocks), where=mean > 0)
    s1 = cn[:, 1] - cn[:, 2]
    s2 = cn[:, 1] + cn[:, 2] - 2.0 * cn[:, 0]
    sd1, sd2 = s1.std(axis=1), s2.std(axis=1)
    alpha = np.divide(sd1, sd2, out=np.zeros_like(sd1), where=sd2 > 0)
    p = s1 + alpha[:, None] * s2
    p = (p - p.mean(axis=1, keepdims=True)) * usable[:, None]
    h = np.zeros(n)
    for offset in range(window):
        h[offset : offset + p.shape[0]] += p[:, offset]
    return h


def band_pass(
    signal: npt.NDArray[np.floating], fps: float, band: tuple[float, float] = BAND_HZ
) -> FloatArray:
    """Zero the spectrum outside ``band`` (Hz): an ideal, zero-phase band-pass."""
    x = np.asarray(signal, dtype=np.float64)
    spectrum = np.fft.rfft(x - x.mean())
    freqs = np.fft.rfftfreq(len(x), 1.0 / fps)
    spectrum[(freqs < band[0]) | (freqs > band[1])] = 0
    return np.fft.irfft(spectrum, n=len(x))


def estimate(
    rgb: npt.NDArray[np.floating], fps: float, band: tuple[float, float] = BAND_HZ
) -> PulseEstimate:
    """Heart rate of an N×3 skin-colour trace sampled uniformly at ``fps``.

    Raises:
        TraceError: as `pos`, or ``fps`` too low to see the top of ``band``.
    """
    if not fps >= 2 * band[1]:
        raise TraceError(f"{fps} fps cannot show pulses up to {band[1]} Hz")
    pulse = band_pass(pos(rgb, fps), fps, band)
    n = len(pulse)
    n_fft = max(4096, 1 << math.ceil(math.log2(n)))  # zero padding: ~0.4 bpm bins at 30 fps
    power = np.abs(np.fft.rfft(pulse * np.hanning(n), n=n_fft)) ** 2
    freqs = np.fft.rfftfreq(n_fft, 1.0 / fps)
    in_band = (freqs >= band[0]) & (freqs <= band[1])
    if not np.any(power[in_band] > 0):
        return PulseEstimate(bpm=0.0, snr_db=-math.inf, confidence=0.0)
    peak_hz = float(freqs[in_band][np.argmax(power[in_band])])
    signal_bins = in_band & (
        (np.abs(freqs - peak_hz) <= 0.1) | (np.abs(freqs - 2 * peak_hz) <= 0.2)
    )
    noise = float(power[in_band & ~signal_bins].sum())
    signal = float(power[signal_bins].sum())
    snr_db = 10 * math.log10(signal / noise) if noise > 0 else math.inf
    return PulseEstimate(bpm=60.0 * peak_hz, snr_db=snr_db, confidence=confidence(snr_db))


def confidence(snr_db: float) -> float:
    """0–1 from the SNR: about 0.1 for noise alone (≈ −4 dB), 0.5 at 0 dB, 0.9 at +4 dB."""
    if math.isnan(snr_db):
        return 0.0
    return 1.0 / (1.0 + math.exp(-snr_db / 1.8)) if math.isfinite(snr_db) else float(snr_db > 0)


class PulseTracker:
    """A sliding window of one viewer's skin colour, and the heart rate in it.

    Samples arrive at camera times (irregular); `estimate` resamples the last
    ``window_s`` seconds onto a uniform grid. Memory is bounded by ``max_samples``.
    """

    __slots__ = ("_samples", "max_samples", "window_s")

    def __init__(self, window_s: float = WINDOW_S, max_samples: int = 1200) -> None:
        self.window_s = window_s
        self.max_samples = max_samples
        self._samples: deque[tuple[float, FloatArray]] = deque(maxlen=max_samples)

    def add(self, rgb: FloatArray, at: float) -> None:
        """One mean skin colour at room-clock time ``at`` (later than the previous)."""
        if self._samples and at <= self._samples[-1][0]:
            return  # a duplicate or reordered frame adds nothing
        self._samples.append((at, np.asarray(rgb, dtype=np.float64)))
        while self._samples and self._samples[0][0] < at - self.window_s:
            self._samples.popleft()

    def clear(self) -> None:
        """Forget the trace (the face was lost: the next one may be someone else)."""
        self._samples.clear()

    @property
    def span_s(self) -> float:
        return self._samples[-1][0] - self._samples[0][0] if len(self._samples) > 1 else 0.0

    def estimate(self, resample_hz: float = RESAMPLE_HZ) -> PulseEstimate | None:
        """The heart rate over the window, or None while the trace is too short or sparse
        (less than `MIN_TRACE_S` seconds, or fewer than `MIN_RATE_HZ` samples a second)."""
        span = self.span_s
        if span < MIN_TRACE_S or (len(self._samples) - 1) / span < MIN_RATE_HZ:
            return None
        times = np.fromiter((t for t, _ in self._samples), dtype=np.float64)
        colours = np.stack([c for _, c in self._samples])
        grid = np.arange(times[0], times[-1], 1.0 / resample_hz)
        uniform = np.column_stack([np.interp(grid, times, colours[:, k]) for k in range(3)])
        try:
            return estimate(uniform, resample_hz)
        except TraceError:
            return None  # e.g. a black stretch: no estimate rather than a wrong one


__all__ = [
    "BAND_HZ",
    "CHEEKS",
    "FOREHEAD",
    "MIN_RATE_HZ",
    "MIN_TRACE_S",
    "WINDOW_S",
    "Box",
    "PulseEstimate",
    "PulseTracker",
    "band_pass",
    "confidence",
    "estimate",
    "mean_rgb",
    "pos",
    "skin_patches",
]
