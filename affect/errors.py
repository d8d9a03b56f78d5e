"""Errors raised by affect/.

Every error carries a stable kebab-case ``code`` and the thing it is about, and builds
its message from them::

    AffectError                    base of everything affect/ raises
    ├── SampleError                a viewer sample is not a number or out of its scale
    ├── TraceError                 an RGB trace or frame has the wrong shape or rate
    ├── ModelError                 a model file is missing, unreadable or fails its checksum
    └── ExportError                the FER export step failed or its ONNX disagrees with torch

Bad *camera input* (no face, too dark, moving) is not an exception: it is a quality flag
on the reading (`affect.quality`), and the sample is excluded from the room's mood.
"""

from __future__ import annotations


class AffectError(Exception):
    """Base class; ``code`` is the stable identifier a client or a script can match on."""

    code: str = "affect-error"

    def __init__(self, detail: str, *, where: str = "") -> None:
        self.detail = detail
        self.where = where
        super().__init__(f"{where}: {detail}" if where else detail)


class SampleError(AffectError):
    """A sample value is NaN/infinite or a parameter is outside its documented range."""

    code = "bad-sample"


class TraceError(AffectError):
    """An RGB trace, frame or landmark array does not have the documented shape."""

    code = "bad-trace"


class ModelError(AffectError):
    """A model file cannot be found, read or verified (``where`` is its path or URL)."""

    code = "model-unavailable"


class ExportError(AffectError):
    """Exporting the FER classifier to ONNX failed, or ONNX and torch outputs disagree."""

    code = "export-failed"


__all__ = ["AffectError", "ExportError", "ModelError", "SampleError", "TraceError"]
