"""Where a story's media names point on disk (``kinoroom story validate --media DIR``).

A story names clips by id (``demo/01-platform``) or by path; the ingest stores each
clip's renditions under the id with an extension, so a name is found if it is a file in
the media folder, or names one there without its extension.
"""

from __future__ import annotations

from pathlib import Path

from narrative.validate import MediaExists


def media_finder(media_dir: Path) -> MediaExists:
    """A ``media_exists`` callable for `narrative.validate.check_story`, rooted at ``media_dir``."""
    root = media_dir.resolve()

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


__all__ = ["media_finder"]
