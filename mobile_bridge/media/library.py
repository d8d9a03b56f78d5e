"""Looking up ingested media: which file plays a media id in a rendition, and its keyframes.

The film track and the story validator ask this, never the file system directly: a
media id exists when the manifest lists it and the rendition files it names are on
disk. A `MediaLibrary` reads the manifest once; build a new one after an ingest.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mobile_bridge.media.clipnames import is_media_id
from mobile_bridge.media.errors import MediaNotFound
from mobile_bridge.media.manifest import Manifest, RenditionFile


@dataclass(frozen=True, slots=True)
class RenditionMedia:
    """One playable file: where it is and what the manifest knows about it.

    Attributes:
        media_id: the story's name for the clip.
        rendition: the rendition name (``360p``).
        path: the absolute path of the ``.ts`` file.
        info: the manifest entry (size, fps, duration, ``keyframes`` as
            ``(pts_s, byte_offset)``).
    """

    media_id: str
    rendition: str
    path: Path
    info: RenditionFile


class MediaLibrary:
    """The media folder as the manifest describes it.

    Raises:
        ManifestError: (from the constructor) the manifest exists but cannot be read.
    """

    def __init__(self, media_dir: Path) -> None:
        self.media_dir = media_dir.resolve()
        self.manifest = Manifest.load(self.media_dir)

    def _file(self, info: RenditionFile) -> Path | None:
        path = (self.media_dir / info.path).resolve()
        if not path.is_relative_to(self.media_dir):
            return None  # a hand-edited manifest cannot point outside the media folder
        return path if path.is_file() else None

    def has(self, media_id: str, rendition: str | None = None) -> bool:
        """Whether ``media_id`` is playable: in ``rendition``, or in every rendition listed."""
        entry = self.manifest.media.get(media_id) if is_media_id(media_id) else None
        if entry is None or not entry.renditions:
            return False
        if rendition is not None:
            info = entry.renditions.get(rendition)
            return info is not None and self._file(info) is not None
        return all(self._file(info) is not None for info in entry.renditions.values())

    def renditions(self, media_id: str) -> tuple[str, ...]:
        """The rendition names the manifest lists for ``media_id`` (empty if none)."""
        entry = self.manifest.media.get(media_id)
        return tuple(entry.renditions) if entry is not None else ()

    def rendition(self, media_id: str, rendition: str) -> RenditionMedia:
        """The file that plays ``media_id`` in ``rendition``.

        Raises:
            MediaNotFound: the id or rendition is not in the manifest, or its file is gone.
        """
        entry = self.manifest.media.get(media_id)
        if entry is None:
            raise MediaNotFound(media_id, None, "not in the media manifest; ingest it first")
        info = entry.renditions.get(rendition)
        if info is None:
            have = ", ".join(entry.renditions) or "none"
            raise MediaNotFound(media_id, rendition, f"not ingested in this rendition (has {have})")
        path = self._file(info)
        if path is None:
            raise MediaNotFound(media_id, rendition, f"file {info.path} is missing")
        return RenditionMedia(media_id, rendition, path, info)


__all__ = ["MediaLibrary", "RenditionMedia"]
