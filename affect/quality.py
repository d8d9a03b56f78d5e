"""Quality flags: which camera readings are too poor to count.

A flagged reading is *excluded* from the viewer's baseline and from the room's mood,
never averaged in: a dark room or a face turning away produces confident-looking nonsense
from the classifier, and averaging nonsense with signal only makes the signal smaller.

Flags (stable strings, sent to the phone so its page can say why it is not counted):

- ``no-face``: the landmarker found no face;
- ``too-dark``: mean luma (Rec. 601, 0–255) of the frame below ``min_luma``: the
  classifier sees noise, and the skin colour for the pulse is lost in it;
- ``moving``: landmarks moved more than ``max_motion`` face widths per second since the
  previous analysed frame (talking, turning, walking): expression and pulse are both
  smeared;
- ``low-confidence``: the face is smaller than ``min_face_px`` wide (too few pixels for a
  48×48 crop), or the expression classifier's top probability is below
  ``min_confidence`` (a near-uniform output means the crop is not a clear face).

Pure over numbers and arrays: no I/O, no clock (the interval between frames is passed in).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from affect.errors import TraceError

Flag = Literal["no-face", "too-dark", "moving", "low-confidence"]
FLAGS: tuple[Flag, ...] = ("no-face", "too-dark", "moving", "low-confidence")


@dataclass(frozen=True, slots=True)
class Limits:
    """Where each flag starts; the defaults suit a phone's front camera at 320×240."""

    min_luma: float = 40.0
    max_motion: float = 0.5  # face widths per second
    min_face_px: float = 40.0
    min_confidence: float = 0.3


DEFAULT_LIMITS = Limits()


def mean_luma(frame: npt.NDArray[np.uint8], step: int = 4) -> float:
    """Mean Rec. 601 luma (0–255) of an H×W×3 RGB frame, over every ``step``-th pixel of
    every ``step``-th row (a threshold needs no more; 16× less work at the default).

    Raises:
        TraceError: the frame is not H×W×3.
    """
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.size == 0:
        raise TraceError(f"frame shape {frame.shape} is not H×W×3")
    # mean per channel first: one pass over the pixels, no float copy of the frame
    r, g, b = frame[::step, ::step].reshape(-1, 3).mean(axis=0, dtype=np.float64)
    return float(0.299 * r + 0.587 * g + 0.114 * b)


def face_width(points_px: npt.NDArray[np.floating]) -> float:
    """Width in pixels of the landmarks' bounding box (N×2 or N×3, pixel x first)."""
    return float(points_px[:, 0].max() - points_px[:, 0].min()) if len(points_px) else 0.0


def landmark_motion(
    previous_px: npt.NDArray[np.floating], current_px: npt.NDArray[np.floating], dt_s: float
) -> float:
    """Mean landmark displacement between two frames, in face widths per second.

    Scaled by face width so a face near the camera and one far away read alike.

    Raises:
        TraceError: the arrays do not hold the same landmarks, or ``dt_s`` is not positive.
    """
    if previous_px.shape != current_px.shape or current_px.ndim != 2:
        raise TraceError(f"landmark shapes {previous_px.shape} and {current_px.shape} differ")
    if not dt_s > 0:
        raise TraceError(f"dt_s={dt_s!r} must be positive")
    width = face_width(current_px)
    if width <= 0:
        return math.inf
    step = np.linalg.norm(current_px[:, :2] - previous_px[:, :2], axis=1).mean()
    return float(step / width / dt_s)


def assess(
    *,
    face_found: bool,
    luma: float,
    motion: float | None = None,
    face_px: float = math.inf,
    confidence: float = 1.0,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[Flag, ...]:
    """The flags one reading earns, in `FLAGS` order; empty means usable.

    ``motion`` is None for the first frame of a viewer (nothing to compare with).
    Without a face only ``no-face`` and ``too-dark`` can apply.
    """
    flags: list[Flag] = []
    if not face_found:
        flags.append("no-face")
    if not luma >= limits.min_luma:
        flags.append("too-dark")
    if face_found:
        if motion is not None and not motion <= limits.max_motion:
            flags.append("moving")
        if not (face_px >= limits.min_face_px and confidence >= limits.min_confidence):
            flags.append("low-confidence")
    return tuple(flags)


__all__ = [
    "DEFAULT_LIMITS",
    "FLAGS",
    "Flag",
    "Limits",
    "assess",
    "face_width",
    "landmark_motion",
    "mean_luma",
]
