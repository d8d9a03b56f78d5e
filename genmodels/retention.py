"""How long generated clips stay: every fill-in job writes ``generated/<job id>`` into the
media folder (`genmodels.clips`), played or not, so the folder grows with every
screening. `prune_generated` deletes the clips older than a given age, with their
manifest entries, and any half-written folder a crashed worker left behind.

A clip is needed only until its boundary has passed (seconds to minutes after it was
made), so any age of an hour or more is safe while rooms play; the provenance of every
job stays in the database (`generated_assets`), and a clip is remade from its seed.
The manifest entries go first, then the files, so the film never finds an entry whose
files are gone.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from mobile_bridge.media.manifest import Manifest

GENERATED = "generated"  # the media folder's subfolder for generated clips


@dataclass(frozen=True, slots=True)
class Pruned:
    removed: tuple[str, ...]  # media ids, ``generated/<job id>``
    bytes: int  # what their files took
    kept: int  # generated clips younger than the age


def prune_generated(
    media_dir: Path, older_than_s: float, *, now: float | None = None, dry_run: bool = False
) -> Pruned:
    """Delete generated clips last written more than ``older_than_s`` seconds ago.

    A clip's age is that of its folder or newest file, so a clip a worker is still
    writing is young. With ``dry_run`` nothing is deleted; the result says what would be.

    Raises:
        ValueError: ``older_than_s`` is negative.
        ManifestError: the manifest exists but cannot be read.
    """
    if older_than_s < 0:
        raise ValueError(f"an age cannot be negative, not {older_than_s}")
    now = time.time() if now is None else now
    folders = sorted(p for p in (media_dir / GENERATED).glob("*") if p.is_dir())
    listed = {m for m in Manifest.load(media_dir).media if m.startswith(f"{GENERATED}/")}
    on_disk = {f"{GENERATED}/{p.name}": p for p in folders}
    old, sizes = [], 0
    for media_id in sorted(listed | on_disk.keys()):
        folder = on_disk.get(media_id)
        stats = [f.stat() for f in folder.rglob("*") if f.is_file()] if folder else []
        if folder is not None:
            newest = max([folder.stat().st_mtime, *(s.st_mtime for s in stats)])
            if now - newest <= older_than_s:
                continue
        old.append(media_id)
        sizes += sum(s.st_size for s in stats)
    if not dry_run and old:
        Manifest.forget(media_dir, old)
        for media_id in old:
            if media_id in on_disk:
                shutil.rmtree(on_disk[media_id], ignore_errors=True)
    return Pruned(tuple(old), sizes, len(listed | on_disk.keys()) - len(old))


__all__ = ["GENERATED", "Pruned", "prune_generated"]
