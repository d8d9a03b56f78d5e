"""Audience affect: per-viewer expression, valence/arousal, engagement and camera heart
rate from camera frames, per-viewer baselines, quality flags and the room's mood.

Pure cores (numpy at most; no I/O, no clock: time is an argument), re-exported here:
`baseline` (per-viewer normalisation), `quality` (flags that exclude bad samples),
`rppg` (heart rate by the POS method), `appraisal` (valence/arousal/engagement from
expression probabilities, blendshapes and head pose), `face_crop` (the classifier's
48×48 input), `errors`.

Model runners, imported from their own modules so that importing the cores never loads
MediaPipe or onnxruntime: `affect.landmarks` (MediaPipe FaceLandmarker),
`affect.expressions` (the FER classifier on onnxruntime), `affect.viewer` (the
per-viewer pipeline), `affect.export_fer` (torch → ONNX, the only use of torch).

The room's mood (trimmed mean over phones, participation, per-scene tallies) is not
here: it is `narrative.mood`, the one implementation the Screening uses; a reading
becomes its `narrative.mood.Sample` (`AffectReading.to_sample`).

May import numpy, mediapipe, onnxruntime (torch in export_fer only) and ``narrative``'s
pure types; never ``server``,
``mobile_bridge`` or ``genmodels``. Nothing here stores a frame, a crop or landmarks.
"""

from affect.appraisal import CLASSES, Appraisal, HeadPose, appraise
from affect.baseline import Baseline, Normalised
from affect.errors import AffectError, ExportError, ModelError, SampleError, TraceError
from affect.quality import FLAGS, Flag, Limits, assess
from affect.rppg import PulseEstimate, PulseTracker

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
