"""A tiny film in a tmp media folder, ingested like real clips, for the picture backends.

Clips come from `tests.mobile_bridge.film.clips` (a solid colour under a moving white
bar, a sine tone) and go through `mobile_bridge.media.ingest`, so they carry the manifest
entries, renditions and keyframe index the backends read. `make_noise_clip` makes the
foreign footage the style anchor must reject: saturated magenta and green noise.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from genmodels.backend import JobContext
from mobile_bridge.media.ingest import ingest_clips
from mobile_bridge.media.renditions import parse_renditions
from tests.mobile_bridge.film.clips import make_clip

FILM = {"film/red": "red", "film/blue": "blue", "film/yellow": "yellow"}


def make_noise_clip(path: Path, *, seconds: float = 1.0, seed: int = 0) -> Path:
    """Per-pixel noise of saturated magenta and green, 320×180 at 30 fps, no sound."""
    rng = np.random.default_rng(seed)
    palette = np.array([[230, 20, 230], [20, 230, 20]], np.uint8)
    with av.open(str(path), "w", format="mpegts") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for i in range(round(seconds * 30)):
            picture = palette[rng.integers(0, 2, (180, 320))]
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def make_media(
    root: Path,
    clips: dict[str, str] | None = None,
    *,
    seconds: float = 3.0,
    renditions: str = "360p",
    noise: tuple[str, ...] = (),
) -> Path:
    """A media folder under ``root`` with ``clips`` (media id → colour) ingested, plus a
    noise clip per id in ``noise``; returns the folder."""
    media = root / "media"
    raw = root / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    args = []
    for media_id, colour in (clips if clips is not None else FILM).items():
        name = media_id.replace("/", "-")
        tone = 300.0 + 100 * len(args)
        path = make_clip(raw / f"{name}.ts", colour, seconds=seconds, tone_hz=tone)
        args.append(f"{media_id}={path}")
    for media_id in noise:
        args.append(f"{media_id}={make_noise_clip(raw / (media_id.replace('/', '-') + '.ts'))}")
    results = ingest_clips(args, [], media, parse_renditions(renditions))
    assert all(r.status == "encoded" for r in results), results
    return media


def context(media: Path, log: list[tuple[float, str]] | None = None) -> JobContext:
    """A job context over ``media`` that records progress in ``log``."""
    sink = log if log is not None else []
    return JobContext(media, lambda fraction, stage: sink.append((fraction, stage)), "test")
