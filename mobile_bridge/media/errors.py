"""Errors of the media side of the bridge: ingest, renditions, the manifest, lookups.

Every error has a stable kebab-case ``code`` and the file or id it is about, and builds
its message from them (the CLI prints ``error CODE: message``)::

    MediaError                  base of the media errors (ValueError: bad input)
    ├── IngestError             one clip cannot be ingested; ``code`` says why:
    │                             ingest-unreadable  missing, a folder, no permission
    │                             ingest-empty       a zero-length file
    │                             ingest-not-media   FFmpeg finds no container in it
    │                             ingest-no-video    a container with no video stream
    │                             ingest-decode-failed  broken part way through
    │                             ingest-no-match / ingest-ambiguous / ingest-bad-id /
    │                             ingest-duplicate   (which media id: `clipnames`)
    ├── UnknownRendition        unknown-rendition: not a name in RENDITIONS
    ├── ManifestError           manifest-invalid: manifest.json cannot be read
    └── MediaNotFound           media-not-found: no such media id or rendition
"""

from __future__ import annotations

from pathlib import Path


class MediaError(ValueError):
    """Base class; ``code`` is what a script or a client matches on."""

    code = "media-error"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class IngestError(MediaError):
    """One clip could not be ingested; ``file`` is the clip as given, ``reason`` why."""

    def __init__(self, code: str, file: str, reason: str) -> None:
        self.code = code
        self.file = file
        self.reason = reason
        super().__init__(f"{file}: {reason}")


class UnknownRendition(MediaError):
    """A rendition name that is not one of `mobile_bridge.media.renditions.RENDITIONS`."""

    code = "unknown-rendition"

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        super().__init__(f"unknown rendition {name!r}; known: {', '.join(known)}")


class ManifestError(MediaError):
    """``manifest.json`` exists but is not a manifest this version reads."""

    code = "manifest-invalid"

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class MediaNotFound(MediaError):
    """The manifest lists no such media id or rendition, or its file is gone."""

    code = "media-not-found"

    def __init__(self, media_id: str, rendition: str | None, reason: str) -> None:
        self.media_id = media_id
        self.rendition = rendition
        self.reason = reason
        where = f"{media_id} ({rendition})" if rendition else media_id
        super().__init__(f"{where}: {reason}")


__all__ = ["IngestError", "ManifestError", "MediaError", "MediaNotFound", "UnknownRendition"]
