"""Audience affect: per-viewer expression, valence/arousal, engagement and camera heart
rate from camera frames, per-viewer baselines, quality flags and the room's mood.

Pure cores (numpy at most; no I/O, no clock: time is an argument), re-exported here
(loaded on first use, so importing the package or its errors does not load numpy):
`baseline` (per-viewer normalisation), `quality` (flags that exclude bad samples),
`rppg` (heart rate by the POS method), `appraisal` (valence/arousal/engagement from
expression probabilities, blendshapes and head pose), `face_crop` (the classifier's
48×48 input), `errors`.

Model runners, imported from their own modules so that importing the cores never loads
MediaPipe or onnxruntime: `affect.landmarks` (MediaPipe FaceLandmarker), `affect.model_file`
(where its model file is, without MediaPipe), `affect.expressions` (the FER classifier on
onnxruntime), `affect.viewer` (the per-viewer pipeline), `affect.export_fer` (torch →
ONNX, the only use of torch).

The room's mood (trimmed mean over phones, participation, per-scene tallies) is not
here: it is `narrative.mood`, the one implementation the Screening uses; a reading
becomes its `narrative.mood.Sample` (`AffectReading.to_sample`).

May import numpy, mediapipe, onnxruntime (torch in export_fer only) and ``narrative``'s
pure types; never ``server``,
``mobile_bridge`` or ``genmodels``. Nothing here stores a frame, a crop or landmarks.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from affect.errors import AffectError, ExportError, ModelError, SampleError, TraceError

if TYPE_CHECKING:
    from affect.appraisal import CLASSES, Appraisal, HeadPose, appraise
    from affect.baseline import Baseline, Normalised
    from affect.quality import FLAGS, Flag, Limits, assess
    from affect.rppg import PulseEstimate, PulseTracker

# The numpy cores load on first use: `kinoroom serve` imports this package for its errors
# and the model file's location (`affect.model_file`) and must not pay ~0.1 s of numpy at
# start-up for a camera nobody may turn on.
_LAZY = {
    **dict.fromkeys(("CLASSES", "Appraisal", "HeadPose", "appraise"), "affect.appraisal"),
    **dict.fromkeys(("Baseline", "Normalised"), "affect.baseline"),
    **dict.fromkeys(("FLAGS", "Flag", "Limits", "assess"), "affect.quality"),
    **dict.fromkeys(("PulseEstimate", "PulseTracker"), "affect.rppg"),
}


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module 'affect' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)


__all__ = [
    "CLASSES",
    "FLAGS",
    "AffectError",
    "Appraisal",
    "Baseline",
    "ExportError",
    "Flag",
    "HeadPose",
    "Limits",
    "ModelError",
    "Normalised",
    "PulseEstimate",
    "PulseTracker",
    "SampleError",
    "TraceError",
    "appraise",
    "assess",
]
