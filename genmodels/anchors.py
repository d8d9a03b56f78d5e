"""The style anchor of a story, measured from its reference clips in the media folder.

`style.Anchor` is pure numbers; this is where its frames come from: `ANCHOR_FRAMES`
frames spread evenly over each reference clip, read from the 360p rendition (the
analysis scale) when there is one. Measuring takes a few hundred milliseconds of
decoding, so anchors are kept (at most 32) keyed by the style block, the media folder
and the references' file hashes: the jobs of one screening measure once, and a
reference that is ingested again is measured again. Thread-safe (workers run jobs in
threads); two jobs that miss at once both measure, and either result is the same.
"""

from __future__ import annotations

import threading
from pathlib import Path

from genmodels.backend import GenerationError
from genmodels.clips import Frame, FrameReader, even_times, find_media
from genmodels.style import Anchor
from narrative.story import Style

#: Frames sampled from each reference clip to build a style anchor.
ANCHOR_FRAMES = 8
_anchors: dict[tuple[str, str, tuple[str, ...]], Anchor] = {}
_anchors_lock = threading.Lock()


def load_anchor(style: Style, media_dir: Path) -> Anchor:
    """The style anchor of ``style`` from `ANCHOR_FRAMES` frames of each reference clip
    (cached: module docstring).

    Raises:
        GenerationError: ``style-missing-reference`` when a reference is not in the
            media folder; ``clip-unreadable``.
    """
    medias = []
    for media_id in style.references:
        try:
            medias.append(find_media(media_dir, media_id, 640))  # 360p: the analysis scale
        except GenerationError as exc:
            raise GenerationError("style-missing-reference", exc.message) from exc
    key = (style.model_dump_json(), str(media_dir), tuple(m.info.sha256 for m in medias))
    with _anchors_lock:
        cached = _anchors.get(key)
    if cached is not None:
        return cached
    frames: list[Frame] = []
    for media in medias:
        with FrameReader(media) as reader:
            times = even_times(reader.duration_s, ANCHOR_FRAMES)
            frames.extend(reader.frame_at(t).copy() for t in times)
    anchor = Anchor.from_frames(frames, style)
    with _anchors_lock:
        if len(_anchors) >= 32:
            _anchors.pop(next(iter(_anchors)))
        _anchors[key] = anchor
    return anchor


__all__ = ["ANCHOR_FRAMES", "load_anchor"]
