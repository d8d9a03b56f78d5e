"""Where a story's media names point on disk (``kinoroom story validate --media DIR``).

Ingest (`mobile_bridge.media.ingest`) and the demo film record every media id they make in
``DIR/manifest.json``; when that manifest exists, a name is found when the manifest
lists it and its rendition files are on disk (`mobile_bridge.media.library`). A folder
with no manifest is a folder of plain clips: a name is found if it is a file there, or
names one there without its extension. Either way nothing outside ``DIR`` is found.
"""

from __future__ import annotations

from pathlib import Path

from mobile_bridge.media.library import MediaLibrary, RenditionMedia
from mobile_bridge.media.manifest import MANIFEST_NAME
from narrative.validate import MediaExists


def media_finder(media_dir: Path) -> MediaExists:
    """A ``media_exists`` callable for `narrative.validate.check_story`, rooted at ``media_dir``.

    Raises:
        ManifestError: the folder's manifest exists but cannot be read.
    """
    root = media_dir.resolve()
    if (root / MANIFEST_NAME).is_file():
        library = MediaLibrary(root)
        return library.has

    def exists(name: str) -> bool:
        candidate = (root / name).resolve()
        if not candidate.is_relative_to(root):
            return False  # `../../etc/passwd` is not a clip of this film
        if candidate.is_file():
            return True
        if not candidate.parent.is_dir():
            return False
        return any(e.is_file() and e.stem == candidate.name for e in candidate.parent.iterdir())

    return exists


def media_paths(media_dir: Path, media_id: str, rendition: str) -> RenditionMedia:
    """The ingested file that plays ``media_id`` in ``rendition``, with its keyframe index.

    Raises:
        MediaNotFound: not in the manifest, not in that rendition, or its file is gone.
        ManifestError: the manifest cannot be read.
    """
    return MediaLibrary(media_dir).rendition(media_id, rendition)


__all__ = ["MediaLibrary", "RenditionMedia", "media_finder", "media_paths"]
