"""Clips with a known film language, ingested like real footage: cuts every ``shot_s``
seconds (solid colours alternating), a click track at ``bpm``, at ``gain`` loudness."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from mobile_bridge.media.ingest import ingest_clips
from mobile_bridge.media.renditions import parse_renditions

COLOURS = ((200, 40, 40), (40, 60, 200), (230, 220, 60), (30, 160, 70))


def make_cut_clip(
    path: Path, *, seconds: float = 6.0, shot_s: float = 1.0, bpm: float = 120.0, gain: float = 0.3
) -> Path:
    fps, rate = 25, 48_000
    with av.open(str(path), "w", format="mpegts") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = 320, 180, "yuv420p"
        video.options = {"preset": "ultrafast"}
        audio = out.add_stream("aac", rate=rate)
        audio.layout = "stereo"
        for i in range(round(seconds * fps)):
            colour = COLOURS[int(i / fps / shot_s) % len(COLOURS)]
            picture = np.empty((180, 320, 3), np.uint8)
            picture[:] = colour
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(video.encode(frame))
        out.mux(video.encode())
        t = np.arange(round(seconds * rate)) / rate
        beat = 60.0 / bpm
        local = t % beat
        click = gain * np.exp(-local / 0.02) * np.sin(2 * np.pi * 880 * t)
        sound = click.astype(np.float32)
        for pos in range(0, len(sound), 1024):
            chunk = sound[pos : pos + 1024]
            frame = av.AudioFrame.from_ndarray(
                np.stack([chunk, chunk]), format="fltp", layout="stereo"
            )
            frame.sample_rate, frame.pts, frame.time_base = rate, pos, Fraction(1, rate)
            out.mux(audio.encode(frame))
        out.mux(audio.encode())
    return path


def ingest(media: Path, clips: dict[str, dict[str, float]]) -> Path:
    """Make and ingest ``clips`` (media id → `make_cut_clip` arguments) into ``media``."""
    raw = media.parent / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    args = [
        f"{media_id}={make_cut_clip(raw / (media_id.replace('/', '-') + '.ts'), **kw)}"
        for media_id, kw in clips.items()
    ]
    results = ingest_clips(args, [], media, parse_renditions("360p"))
    assert all(r.status == "encoded" for r in results), results
    return media
