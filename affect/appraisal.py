"""Valence, arousal and engagement from one analysed face.

**Valence and arousal** come from two readings of the face, blended:

1. The expression classifier's 7 probabilities (FER2013 classes), each class placed on
   Russell's circumplex at its pleasure/arousal rating from J. A. Russell &
   A. Mehrabian, *Evidence for a three-factor theory of emotions*, J. Research in
   Personality 11 (1977), as tabulated in Mehrabian's PAD emotion scales (−1…+1):
   happy (+0.81, +0.51), surprise (+0.40, +0.67), angry (−0.51, +0.59),
   disgust (−0.60, +0.35), fear (−0.64, +0.60), sad (−0.63, −0.27), neutral (0, 0).
   The face's point is the probability-weighted mean of the class points: a face 60 %
   happy, 40 % neutral sits at (+0.49, +0.31), not at "happy".
2. MediaPipe's blendshapes, which measure the muscles rather than guess a category:
   smiling raises valence; frowning, lowered brows and a sneer lower it; an open jaw,
   widened eyes and raised inner brows raise arousal. They refine the classifier where
   it is weakest (mild expressions, which FER2013's posed faces rarely show).

The blend is ``EXPRESSION_WEIGHT`` of the classifier and the rest from blendshapes;
without a classifier (its ONNX export is optional, see `affect.export_fer`) blendshapes
alone give the reading.

**Engagement** (0–1) is whether the viewer is watching: the head facing the screen
(yaw and pitch from the facial transformation matrix; full marks within ±15°, none past
±45° yaw / ±40° pitch), the eyes on it (the eye-look blendshapes: a sustained sideways
or upward look is elsewhere; a slight downward look is the phone under its camera), and
the eyes open (blinks are brief; eyes closed for a whole reading are not watching).

Pure arithmetic over numbers: no model, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from affect.errors import SampleError

CLASSES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
CIRCUMPLEX: dict[str, tuple[float, float]] = {
    "angry": (-0.51, 0.59),
    "disgust": (-0.60, 0.35),
    "fear": (-0.64, 0.60),
    "happy": (0.81, 0.51),
    "sad": (-0.63, -0.27),
    "surprise": (0.40, 0.67),
    "neutral": (0.0, 0.0),
}
EXPRESSION_WEIGHT = 0.6


@dataclass(frozen=True, slots=True)
class HeadPose:
    """Degrees; yaw turns left/right, pitch nods up/down, roll tilts."""

    yaw: float
    pitch: float
    roll: float


@dataclass(frozen=True, slots=True)
class Appraisal:
    """One face's reading; ``top_class`` is None without a classifier."""

    valence: float
    arousal: float
    engagement: float
    top_class: str | None
    top_probability: float | None
    pose: HeadPose | None


def from_expressions(probabilities: Sequence[float]) -> tuple[float, float]:
    """The probability-weighted circumplex point of the 7 FER classes (in `CLASSES` order).

    Raises:
        SampleError: not 7 finite non-negative numbers with a positive sum.
    """
    p = [float(x) for x in probabilities]
    if len(p) != len(CLASSES) or not all(math.isfinite(x) and x >= 0 for x in p) or sum(p) <= 0:
        raise SampleError(f"expected {len(CLASSES)} class probabilities, got {probabilities!r}")
    total = math.fsum(p)
    valence = math.fsum(w * CIRCUMPLEX[c][0] for w, c in zip(p, CLASSES, strict=True)) / total
    arousal = math.fsum(w * CIRCUMPLEX[c][1] for w, c in zip(p, CLASSES, strict=True)) / total
    return _clamp(valence), _clamp(arousal)


def from_blendshapes(blendshapes: Mapping[str, float]) -> tuple[float, float]:
    """Valence and arousal from MediaPipe's 52 blendshape scores (missing ones read 0)."""

    def both(name: str) -> float:
        return (_score(blendshapes, f"{name}Left") + _score(blendshapes, f"{name}Right")) / 2

    smile, frown = both("mouthSmile"), both("mouthFrown")
    valence = smile - 0.6 * frown - 0.4 * both("browDown") - 0.4 * both("noseSneer")
    arousal = (
        -0.3
        + 0.8 * _score(blendshapes, "jawOpen")
        + 0.8 * both("eyeWide")
        + 0.4 * _score(blendshapes, "browInnerUp")
        + 0.3 * smile
    )
    return _clamp(valence), _clamp(arousal)


def head_pose(transform: npt.NDArray[np.floating]) -> HeadPose:
    """Yaw, pitch and roll of MediaPipe's 4×4 facial transformation matrix.

    Decomposes the rotation as ``Rz(roll) · Ry(yaw) · Rx(pitch)`` after removing scale.

    Raises:
        SampleError: not a 4×4 matrix with a non-degenerate rotation.
    """
    m = np.asarray(transform, dtype=np.float64)
    if m.shape != (4, 4) or not np.all(np.isfinite(m)):
        raise SampleError(f"transformation matrix of shape {m.shape} is not 4×4")
    scale = np.linalg.norm(m[:3, :3], axis=0)
    if np.any(scale <= 1e-9):
        raise SampleError("transformation matrix has a degenerate rotation")
    r = m[:3, :3] / scale
    yaw = math.degrees(math.asin(max(-1.0, min(1.0, -r[2, 0]))))
    pitch = math.degrees(math.atan2(r[2, 1], r[2, 2]))
    roll = math.degrees(math.atan2(r[1, 0], r[0, 0]))
    return HeadPose(yaw=yaw, pitch=pitch, roll=roll)


def engagement(pose: HeadPose | None, blendshapes: Mapping[str, float]) -> float:
    """0–1: facing the screen × eyes on it × eyes open (see the module docstring)."""
    facing = 1.0
    if pose is not None:
        facing = _falloff(abs(pose.yaw), 15.0, 45.0) * _falloff(abs(pose.pitch), 15.0, 40.0)

    def both(a: str, b: str) -> float:
        return (_score(blendshapes, a) + _score(blendshapes, b)) / 2

    away = max(
        both("eyeLookOutLeft", "eyeLookInRight"),  # both eyes to one side
        both("eyeLookInLeft", "eyeLookOutRight"),  # both eyes to the other
        both("eyeLookUpLeft", "eyeLookUpRight"),
        both("eyeLookDownLeft", "eyeLookDownRight") - 0.3,  # the phone sits below the camera
    )
    gaze = _falloff(away, 0.35, 0.75)
    eyes_open = _falloff(both("eyeBlinkLeft", "eyeBlinkRight"), 0.55, 0.9)
    return facing * gaze * eyes_open


def appraise(
    probabilities: Sequence[float] | None,
    blendshapes: Mapping[str, float],
    transform: npt.NDArray[np.floating] | None,
) -> Appraisal:
    """Blend the classifier's and the blendshapes' readings; add engagement.

    Args:
        probabilities: the 7 FER class probabilities, or None without a classifier.
        blendshapes: MediaPipe blendshape scores by name.
        transform: MediaPipe's 4×4 facial transformation matrix, or None.
    """
    bs_valence, bs_arousal = from_blendshapes(blendshapes)
    top_class: str | None = None
    top_probability: float | None = None
    if probabilities is None:
        valence, arousal = bs_valence, bs_arousal
    else:
        fer_valence, fer_arousal = from_expressions(probabilities)
        w = EXPRESSION_WEIGHT
        valence = w * fer_valence + (1 - w) * bs_valence
        arousal = w * fer_arousal + (1 - w) * bs_arousal
        best = max(range(len(CLASSES)), key=lambda i: probabilities[i])
        top_class = CLASSES[best]
        top_probability = float(probabilities[best]) / float(sum(probabilities))
    pose = head_pose(transform) if transform is not None else None
    return Appraisal(
        valence=_clamp(valence),
        arousal=_clamp(arousal),
        engagement=engagement(pose, blendshapes),
        top_class=top_class,
        top_probability=top_probability,
        pose=pose,
    )


def _score(blendshapes: Mapping[str, float], name: str) -> float:
    value = float(blendshapes.get(name, 0.0))
    return min(1.0, max(0.0, value)) if math.isfinite(value) else 0.0


def _falloff(x: float, full_until: float, none_from: float) -> float:
    """1 up to ``full_until``, 0 from ``none_from``, linear between."""
    return min(1.0, max(0.0, (none_from - x) / (none_from - full_until)))


def _clamp(x: float) -> float:
    return min(1.0, max(-1.0, x))


__all__ = [
    "CIRCUMPLEX",
    "CLASSES",
    "EXPRESSION_WEIGHT",
    "Appraisal",
    "HeadPose",
    "appraise",
    "engagement",
    "from_blendshapes",
    "from_expressions",
    "head_pose",
]
