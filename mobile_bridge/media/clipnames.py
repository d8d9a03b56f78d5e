"""Which media id a clip file on the ``kinoroom ingest`` command line is for.

A story names its clips by media id (``media: demo/01-platform``, and variants'
``media``); the person ingesting has files (``shots/final/01-platform.mp4``). The rule:

1. ``ID=PATH`` names the id explicitly (``demo/01-platform=take3.mkv``); the id must be
   a clean relative name (letters, digits, ``._-``, ``/`` between parts, no ``..``).
2. Otherwise the candidates are the story's media ids whose last part equals the file's
   name without its extension (``01-platform``; an id's own extension is ignored too).
3. When several ids have that last part (``a/intro`` and ``b/intro``), the one sharing
   the most trailing folder names with the file's path wins (``clips/b/intro.mp4`` →
   ``b/intro``); if that still leaves more than one, the clip is ambiguous.

Errors (`IngestError` with a stable code): ``ingest-no-match`` (no story id fits),
``ingest-ambiguous`` (several fit equally), ``ingest-bad-id`` (an ``ID=`` that is not a
clean name), ``ingest-duplicate`` (two clips for one id). Pure: paths are strings here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePath

from mobile_bridge.media.errors import IngestError
from narrative.story import Story

_PART = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_MEDIA_ID = re.compile(rf"{_PART}(?:/{_PART})*")


@dataclass(frozen=True, slots=True)
class ClipSpec:
    """A clip file and the media id it is ingested as."""

    media_id: str
    path: str


def is_media_id(name: str) -> bool:
    """Whether ``name`` can be a media id (and a folder under the media dir)."""
    return _MEDIA_ID.fullmatch(name) is not None and ".." not in name.split("/")


def story_media_ids(story: Story) -> list[str]:
    """Every media id a story plays: scenes and their variants, in story order, once."""
    seen: dict[str, None] = {}
    for scene in story.scenes.values():
        if scene.media is not None:  # a text scene plays no clip
            seen[scene.media] = None
        for variant in scene.variants:
            if variant.media is not None:
                seen[variant.media] = None
    return list(seen)


def _stem(part: str) -> str:
    return PurePath(part).stem if "." in part[1:] else part


def _trailing_match(id_parts: list[str], path_parts: list[str]) -> int:
    count = 0
    for a, b in zip(reversed(id_parts[:-1]), reversed(path_parts[:-1]), strict=False):
        if a != b:
            break
        count += 1
    return count


def match_clip(arg: str, media_ids: Sequence[str]) -> ClipSpec:
    """The media id for one command-line clip argument (``PATH`` or ``ID=PATH``).

    Raises:
        IngestError: no id, several ids, or a malformed ``ID=``.
    """
    media_id, sep, path = arg.partition("=")
    if sep and media_id and path:
        if not is_media_id(media_id):
            raise IngestError("ingest-bad-id", path, f"{media_id!r} is not a clean media id")
        return ClipSpec(media_id, path)
    path = arg
    path_parts = list(PurePath(path).parts)
    stem = _stem(path_parts[-1]) if path_parts else ""
    candidates = [m for m in media_ids if is_media_id(m) and _stem(m.split("/")[-1]) == stem]
    if not candidates:
        hint = "; name it ID=PATH" if media_ids else " (no --story given; name it ID=PATH)"
        raise IngestError("ingest-no-match", path, f"no media id of the story is {stem!r}{hint}")
    scores = {m: _trailing_match(m.split("/"), path_parts) for m in candidates}
    best = max(scores.values())
    winners = [m for m, score in scores.items() if score == best]
    if len(winners) > 1:
        raise IngestError(
            "ingest-ambiguous", path, f"could be {' or '.join(winners)}; name it ID=PATH"
        )
    return ClipSpec(winners[0], path)


def match_clips(args: Iterable[str], media_ids: Sequence[str]) -> list[ClipSpec | IngestError]:
    """`match_clip` for each argument; a second clip for the same id is an error."""
    taken: dict[str, str] = {}
    matched: list[ClipSpec | IngestError] = []
    for arg in args:
        try:
            spec = match_clip(arg, media_ids)
        except IngestError as exc:
            matched.append(exc)
            continue
        if spec.media_id in taken:
            matched.append(
                IngestError(
                    "ingest-duplicate",
                    spec.path,
                    f"{taken[spec.media_id]} is already ingested as {spec.media_id}",
                )
            )
            continue
        taken[spec.media_id] = spec.path
        matched.append(spec)
    return matched


__all__ = [
    "ClipSpec",
    "is_media_id",
    "match_clip",
    "match_clips",
    "story_media_ids",
]
