"""One viewer's camera, frame by frame, to numbers: the per-viewer analysis pipeline.

Two entry points, because the face and the pulse need different rates:

- `ViewerAnalysis.analyse` (2–4 times a second): frame → landmarks → quality flags →
  48×48 crop → expression probabilities → appraisal → baseline → pulse estimate →
  an `AffectReading`. About 13 ms of CPU per frame with fresh landmarks, 1–2 ms when
  a still face reuses them (5.6 ms on average for a still viewer at 2 fps; README,
  `bench/camera_affect.py`).
- `ViewerAnalysis.sample_skin` (every other camera frame, ≥ 8 a second): the mean colour
  of the skin patches placed by the last analysed frame, into the pulse trace. A few
  microseconds: no model runs. The face barely moves between two analysed frames; when
  it does, the next analysed frame flags ``moving`` and moves the patches.

A flagged reading carries no valence/arousal/engagement and is not fed to the baseline:
it is excluded, not averaged (`affect.quality`). When the face is lost the pulse trace
is cleared: the next face found may be someone else's, and a gap would fake a rhythm.

Privacy (DESIGN.md "Affect"): the frame and the crop are dropped when the call returns;
a reading holds numbers only. Per-viewer state is the baseline's running means, the
pulse trace (three colour means per frame over ~10 s) and the previous frame's landmarks
(for motion), all in memory.

Landmarks are the cost (≈ 9.5 ms of the ≈ 12 ms per analysed frame): when the face has
not changed since the last landmarked frame (a 12×12 brightness signature of the crop,
uniform light changes removed, moved by less than `STILL_CHANGE` anywhere) and those
landmarks are younger than ``reuse_landmarks_s``, the mesh is reused: crop, classifier,
appraisal and pulse still run on the new frame. A shift or a turn changes the signature
and brings a fresh mesh at once; an expression too slight to move any block by
`STILL_CHANGE` keeps the last blendshapes for up to ``reuse_landmarks_s`` (the
classifier still sees the new crop); a still viewer costs a landmarker run every
``reuse_landmarks_s``. (MediaPipe's VIDEO mode, which tracks instead of detecting,
measured no faster here — 9.3 ms — and needs a landmarker per viewer, ~22 MB each; a
160×120 input was slower still, 14 ms.) The signature (144 brightness numbers) is kept
in memory only, like the previous landmarks, and dropped with the face.

The landmarker and the classifier are shared: one of each per worker process serves
all its viewers (IMAGE mode keeps no per-stream state); a `ViewerAnalysis` per viewer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from affect.appraisal import appraise
from affect.baseline import Baseline
from affect.expressions import ExpressionClassifier
from affect.face_crop import grey_crop
from affect.landmarks import FaceMesh, Landmarker
from affect.quality import (
    DEFAULT_LIMITS,
    Flag,
    Limits,
    assess,
    face_width,
    landmark_motion,
    mean_luma,
)
from affect.rppg import Box, PulseEstimate, PulseTracker, mean_rgb, skin_patches
from narrative.ids import DeviceId
from narrative.mood import HEART_RATE_RANGE_BPM, Sample

MIN_PULSE_CONFIDENCE = 0.5
REUSE_LANDMARKS_S = 1.5
STILL_CHANGE = 0.03  # of full brightness, in any 4×4 block of the 48×48 crop
PULSE_EVERY_S = 1.0  # the rate changes slowly; its FFT need not run on every analysed frame


@dataclass(frozen=True, slots=True)
class AffectReading:
    """What one analysed frame says about one viewer (numbers only).

    ``valence``/``arousal`` are relative to the viewer's baseline (what the room mood
    uses); ``raw_valence``/``raw_arousal`` are the appraisal before it. All affect fields
    are None when ``flags`` is non-empty. ``heart_rate_bpm`` is None until the pulse
    trace is long enough and its confidence reaches `MIN_PULSE_CONFIDENCE`.
    """

    at: float
    flags: tuple[Flag, ...]
    luma: float
    valence: float | None = None
    arousal: float | None = None
    engagement: float | None = None
    raw_valence: float | None = None
    raw_arousal: float | None = None
    top_class: str | None = None
    top_probability: float | None = None
    calibrated: bool = False
    heart_rate_bpm: float | None = None
    heart_rate_confidence: float | None = None

    @property
    def usable(self) -> bool:
        return not self.flags

    def to_sample(self, device: str) -> Sample | None:
        """The room-mood sample (`narrative.mood`) of a usable reading, None for a flagged one."""
        if self.valence is None or self.arousal is None or self.engagement is None:
            return None
        return Sample(
            device=DeviceId(device),
            valence=self.valence,
            arousal=self.arousal,
            engagement=self.engagement,
            at=self.at,
            heart_rate_bpm=self.heart_rate_bpm,
        )


class ViewerAnalysis:
    """The per-viewer state around shared models; feed frames in time order."""

    def __init__(
        self,
        landmarker: Landmarker,
        classifier: ExpressionClassifier | None = None,
        *,
        limits: Limits = DEFAULT_LIMITS,
        baseline: Baseline | None = None,
        pulse: PulseTracker | None = None,
        reuse_landmarks_s: float = REUSE_LANDMARKS_S,
    ) -> None:
        self._landmarker = landmarker
        self._classifier = classifier
        self._limits = limits
        self.baseline = baseline if baseline is not None else Baseline()
        self.pulse = pulse if pulse is not None else PulseTracker()
        self._patches: list[Box] = []
        self._previous: tuple[float, npt.NDArray[np.float32]] | None = None
        self._pulse: tuple[float, PulseEstimate | None] | None = None  # (when, estimate)
        self._reuse_s = reuse_landmarks_s
        self._mesh: tuple[float, FaceMesh, npt.NDArray[np.float32]] | None = None
        self.landmarker_runs = 0  # how often the mesh was not reused (for the benchmark)

    @property
    def patches(self) -> list[Box]:
        """The skin patches placed by the last analysed frame (empty without a face), for
        a caller that computes skin colour itself and feeds ``pulse.add``."""
        return list(self._patches)

    def sample_skin(self, frame: npt.NDArray[np.uint8], at: float) -> None:
        """Add one frame's skin colour to the pulse trace (no-op without a face)."""
        if self._patches:
            rgb = mean_rgb(frame, self._patches)
            if rgb is not None:
                self.pulse.add(rgb, at)

    def analyse(self, frame: npt.NDArray[np.uint8], at: float) -> AffectReading:
        """Analyse one RGB frame (H×W×3 uint8) taken at room-clock time ``at``."""
        luma = mean_luma(frame)
        mesh, crop = self._reused(frame, at)
        motion = None
        if mesh is None:
            mesh = self._landmarker.detect(frame)
            self.landmarker_runs += 1
            if mesh is None:
                self._patches = []
                self._previous = self._mesh = None
                self.pulse.clear()
                self._pulse = None
                return AffectReading(at=at, flags=assess(face_found=False, luma=luma), luma=luma)
            points = mesh.points_px
            if self._previous is not None and at > self._previous[0]:
                motion = landmark_motion(
                    self._previous[1][:, :2], points[:, :2], at - self._previous[0]
                )
            self._previous = (at, points)
            crop = grey_crop(frame, points)
            self._mesh = (at, mesh, _signature(crop))
        assert crop is not None
        points = mesh.points_px

        probabilities = None
        if self._classifier is not None:
            probabilities = self._classifier.classify(crop)[0].tolist()
        confidence = max(probabilities) if probabilities is not None else 1.0
        flags = assess(
            face_found=True,
            luma=luma,
            motion=motion,
            face_px=face_width(points),
            confidence=confidence,
            limits=self._limits,
        )

        self._patches = skin_patches(points, frame.shape)
        self.sample_skin(frame, at)
        if self._pulse is None or not 0 <= at - self._pulse[0] < PULSE_EVERY_S:
            self._pulse = (at, self.pulse.estimate())
        pulse = self._pulse[1]
        low, high = HEART_RATE_RANGE_BPM
        heart_rate = None
        if pulse is not None and pulse.confidence >= MIN_PULSE_CONFIDENCE:
            heart_rate = min(high, max(low, pulse.bpm))
        pulse_confidence = pulse.confidence if pulse is not None else None

        if flags:
            return AffectReading(
                at=at,
                flags=flags,
                luma=luma,
                heart_rate_bpm=heart_rate,
                heart_rate_confidence=pulse_confidence,
            )
        appraisal = appraise(probabilities, mesh.blendshapes, mesh.transform)
        normalised = self.baseline.observe(appraisal.valence, appraisal.arousal, heart_rate, at)
        return AffectReading(
            at=at,
            flags=(),
            luma=luma,
            valence=normalised.valence,
            arousal=normalised.arousal,
            engagement=appraisal.engagement,
            raw_valence=appraisal.valence,
            raw_arousal=appraisal.arousal,
            top_class=appraisal.top_class,
            top_probability=appraisal.top_probability,
            calibrated=normalised.calibrated,
            heart_rate_bpm=heart_rate,
            heart_rate_confidence=pulse_confidence,
        )

    def _reused(
        self, frame: npt.NDArray[np.uint8], at: float
    ) -> tuple[FaceMesh | None, npt.NDArray[np.float32] | None]:
        """The last mesh and this frame's crop, if the face has not changed since."""
        if self._mesh is None or not 0 <= at - self._mesh[0] < self._reuse_s:
            return None, None
        _, mesh, signature = self._mesh
        crop = grey_crop(frame, mesh.points_px)
        change = _signature(crop) - signature
        if float(np.abs(change - change.mean()).max()) >= STILL_CHANGE:
            return None, None
        return mesh, crop


def _signature(crop: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """4×4 block means of a 48×48 crop: 12×12 brightness numbers, noise averaged out."""
    blocks: npt.NDArray[np.float32] = crop.reshape(12, 4, 12, 4).mean(axis=(1, 3))
    return blocks


__all__ = [
    "MIN_PULSE_CONFIDENCE",
    "PULSE_EVERY_S",
    "REUSE_LANDMARKS_S",
    "STILL_CHANGE",
    "AffectReading",
    "ViewerAnalysis",
]
