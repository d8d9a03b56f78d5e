"""The library's measured clips: ``MEDIA_DIR/measures.json``, written at ingest.

``kinoroom ingest`` and ``kinoroom film demo`` measure each clip they made
(`measure.measure_clip`) and record it here; ``kinoroom film measure`` measures whatever
the media folder holds that is not measured yet (a folder made before this existed, a
clip copied in by hand). Format (``version`` 1)::

    {"version": 1,
     "clips": {"demo/01-platform": {"sha256": "<the 360p rendition's>", "measure": 1,
                                     "duration_s": 30.0, "cuts": [2.5], "motion": 1.6, …}}}

An entry is current while its rendition's SHA-256 (from the manifest) and the
`MEASURE_VERSION` are unchanged, so a clip is measured once. The file is written
atomically under its own ``flock``, so ingest and a server reading it never see half a
file. Blocking file I/O.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from mobile_bridge.media.errors import MediaError
from mobile_bridge.media.library import MediaLibrary
from mobile_bridge.media.manifest import Manifest
from server.recommend.measure import MEASURE_VERSION, ClipMeasure, MeasureError, measure_clip

MEASURES_NAME = "measures.json"
LOCK_NAME = ".measures.lock"
RENDITION = "360p"  # what every clip is measured from (the narrowest rendition as fallback)


@dataclass(frozen=True, slots=True)
class Measured:
    """What happened to one clip: ``measured``, ``current`` (already) or ``failed``."""

    media_id: str
    status: str
    error: str | None = None


def load_measures(media_dir: Path) -> dict[str, ClipMeasure]:
    """Every measured clip of the media folder (none when nothing is measured yet; an
    unreadable file counts as none: measures are derived, ``film measure`` remakes them)."""
    try:
        data = json.loads((media_dir / MEASURES_NAME).read_text(encoding="utf-8"))
        clips = data["clips"]
        return {
            media_id: ClipMeasure.from_json(entry)
            for media_id, entry in clips.items()
            if entry.get("measure") == MEASURE_VERSION
        }
    except (OSError, ValueError, KeyError, TypeError, AssertionError):
        return {}


def measure_media(
    media_dir: Path,
    media_ids: Iterable[str] | None = None,
    *,
    on_done: Callable[[Measured], None] | None = None,
) -> list[Measured]:
    """Measure the clips ``media_ids`` (default: every clip in the manifest) that are not
    measured yet, and record them. A clip that fails is reported and the others go on.

    Raises:
        ManifestError: the media folder's manifest cannot be read.
    """
    manifest = Manifest.load(media_dir)
    library = MediaLibrary(media_dir)
    wanted = list(manifest.media) if media_ids is None else list(dict.fromkeys(media_ids))
    known = _read(media_dir)
    results: list[Measured] = []
    for media_id in wanted:
        result, entry = _measure_one(library, manifest, known, media_id)
        if entry is not None:
            known = _record(media_dir, media_id, entry)
        results.append(result)
        if on_done is not None:
            on_done(result)
    return results


def _measure_one(
    library: MediaLibrary, manifest: Manifest, known: dict[str, dict[str, object]], media_id: str
) -> tuple[Measured, dict[str, object] | None]:
    entry = manifest.media.get(media_id)
    if entry is None or not entry.renditions:
        return Measured(media_id, "failed", "not in the media folder"), None
    name = (
        RENDITION
        if RENDITION in entry.renditions
        else min(entry.renditions, key=lambda n: entry.renditions[n].width)
    )
    sha = entry.renditions[name].sha256
    old = known.get(media_id)
    if old is not None and old.get("sha256") == sha and old.get("measure") == MEASURE_VERSION:
        return Measured(media_id, "current"), None
    try:
        path = library.rendition(media_id, name).path
        measure = measure_clip(path)
    except (MediaError, MeasureError) as exc:
        return Measured(media_id, "failed", str(exc)), None
    return Measured(media_id, "measured"), {
        "sha256": sha,
        "measure": MEASURE_VERSION,
        **measure.to_json(),
    }


def _read(media_dir: Path) -> dict[str, dict[str, object]]:
    try:
        data = json.loads((media_dir / MEASURES_NAME).read_text(encoding="utf-8"))
        clips = data.get("clips", {}) if isinstance(data, dict) else {}
        return {k: v for k, v in clips.items() if isinstance(v, dict)}
    except (OSError, ValueError):
        return {}


def _record(
    media_dir: Path, media_id: str, entry: dict[str, object]
) -> dict[str, dict[str, object]]:
    """Add one clip's entry to the file on disk, under its lock (re-read, then written)."""
    media_dir.mkdir(parents=True, exist_ok=True)
    with (media_dir / LOCK_NAME).open("a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            clips = _read(media_dir)
            clips[media_id] = entry
            fd, tmp = tempfile.mkstemp(dir=media_dir, prefix=".measures-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump({"version": 1, "clips": clips}, out, indent=1, sort_keys=True)
                os.replace(tmp, media_dir / MEASURES_NAME)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
    return clips


__all__ = ["MEASURES_NAME", "Measured", "load_measures", "measure_media"]
