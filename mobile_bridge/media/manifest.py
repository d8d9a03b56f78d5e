"""The media manifest: ``MEDIA_DIR/manifest.json``, what ingest made and where it lies.

One file per media folder, written by `mobile_bridge.media.ingest` and
`mobile_bridge.demo_film`, read by the story validator (``missing-media``) and the film
track (which rendition file plays a media id, where its keyframes are). Format
(``version`` 1)::

    {"version": 1,
     "media": {
       "demo/01-platform": {
         "source": {"path": "clips/01-platform.mp4", "size": 1234, "sha256": "…"},
         "duration_s": 30.0,
         "renditions": {
           "360p": {"path": "demo/01-platform/360p.ts", "profile": "<digest>",
                    "width": 640, "height": 360, "fps": 30.0, "video_kbps": 700,
                    "audio": true, "sha256": "…", "size": 2345678, "duration_s": 30.0,
                    "keyframes": [[0.0065, 564], [1.0065, 35908], …]}}}}}

``keyframes`` are ``[pts_s, byte_offset]``: the keyframe's presentation time as the
MPEG-TS demuxer reports it (video starts a few milliseconds after 0: x264's and the
muxer's start offset; audio at 0) and the byte offset of the 188-byte TS packet where its
PES starts, so a reader can seek straight to it.
``profile`` is `Rendition.fingerprint`: when it changes the rendition is re-encoded.
Paths are relative to the media folder, with ``/`` separators. A generated clip's
source path is ``generated:demo@<version>`` (size 0, sha256 of its parameters).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mobile_bridge.media.errors import ManifestError

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
LOCK_NAME = ".manifest.lock"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Model):
    """The input a media id was made from."""

    path: str
    size: int = Field(ge=0)
    sha256: str


class RenditionFile(_Model):
    """One encoded rendition of a media id."""

    path: str = Field(description="relative to the media folder")
    profile: str = Field(description="Rendition.fingerprint of the settings that made it")
    width: int
    height: int
    fps: float
    video_kbps: int
    audio: bool
    sha256: str
    size: int = Field(ge=0)
    duration_s: float = Field(ge=0)
    keyframes: list[tuple[float, int]] = Field(description="[pts_s, byte_offset] per keyframe")


class MediaEntry(_Model):
    """Everything ingested for one media id."""

    source: Source
    duration_s: float = Field(ge=0)
    renditions: dict[str, RenditionFile] = Field(default_factory=dict)


class Manifest(_Model):
    """The manifest of one media folder; `load` and `save` read and write it."""

    version: int = MANIFEST_VERSION
    media: dict[str, MediaEntry] = Field(default_factory=dict)

    @classmethod
    def load(cls, media_dir: Path) -> Manifest:
        """The manifest in ``media_dir``, or an empty one when there is none yet.

        Raises:
            ManifestError: the file exists but is not a manifest this version reads.
        """
        path = media_dir / MANIFEST_NAME
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls()
        except OSError as exc:
            raise ManifestError(path, exc.strerror or str(exc)) from exc
        try:
            manifest = cls.model_validate_json(text)
        except ValidationError as exc:
            raise ManifestError(
                path, f"not a media manifest ({exc.error_count()} problem(s))"
            ) from exc
        if manifest.version != MANIFEST_VERSION:
            raise ManifestError(
                path, f"manifest version {manifest.version}, expected {MANIFEST_VERSION}"
            )
        return manifest

    def save(self, media_dir: Path) -> None:
        """Write the manifest atomically (a reader never sees half a file)."""
        media_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=media_dir, prefix=".manifest-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(self.model_dump_json(indent=1))
                out.write("\n")
            os.replace(tmp, media_dir / MANIFEST_NAME)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def record(cls, media_dir: Path, media_id: str, entry: MediaEntry) -> Manifest:
        """Add ``entry`` to the manifest on disk, under the media folder's lock: ingest,
        the demo film and generation workers (other processes) write the same file, so
        each re-reads it and adds its own entry rather than saving a stale copy."""
        with manifest_lock(media_dir):
            manifest = cls.load(media_dir).with_entry(media_id, entry)
            manifest.save(media_dir)
        return manifest

    @classmethod
    def forget(cls, media_dir: Path, media_ids: Iterable[str]) -> Manifest:
        """Drop ``media_ids`` from the manifest on disk, under the media folder's lock (the
        files are the caller's to delete, after: a reader never finds an entry whose
        files are gone)."""
        gone = set(media_ids)
        with manifest_lock(media_dir):
            manifest = cls.load(media_dir)
            kept = {k: v for k, v in manifest.media.items() if k not in gone}
            if len(kept) != len(manifest.media):
                manifest = manifest.model_copy(update={"media": kept})
                manifest.save(media_dir)
        return manifest

    def with_entry(self, media_id: str, entry: MediaEntry) -> Manifest:
        """A copy with ``media_id`` set to ``entry``."""
        return self.model_copy(update={"media": {**self.media, media_id: entry}})


@contextmanager
def manifest_lock(media_dir: Path) -> Iterator[None]:
    """Hold the media folder's manifest lock (an exclusive ``flock``) while inside."""
    media_dir.mkdir(parents=True, exist_ok=True)
    with (media_dir / LOCK_NAME).open("a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def rendition_relpath(media_id: str, rendition: str) -> str:
    """Where a rendition file lives, relative to the media folder: ``<id>/<name>.ts``."""
    return f"{media_id}/{rendition}.ts"


def file_sha256(path: Path) -> str:
    """The hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def rendition_is_current(media_dir: Path, entry: RenditionFile, profile: str) -> bool:
    """Whether a manifest rendition was made with ``profile`` and its file is intact."""
    if entry.profile != profile:
        return False
    path = media_dir / entry.path
    try:
        if path.stat().st_size != entry.size:
            return False
    except OSError:
        return False
    return file_sha256(path) == entry.sha256


__all__ = [
    "LOCK_NAME",
    "MANIFEST_NAME",
    "MANIFEST_VERSION",
    "Manifest",
    "ManifestError",
    "MediaEntry",
    "RenditionFile",
    "Source",
    "file_sha256",
    "manifest_lock",
    "rendition_is_current",
    "rendition_relpath",
]
