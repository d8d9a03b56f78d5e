"""Tiny media files for the ingest and demo-film tests, made with PyAV, plus stream checks.

Every clip is a second or three at a small size, so the media tests stay fast.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def make_clip(
    path: Path,
    *,
    seconds: float = 2.0,
    size: tuple[int, int] = (320, 240),
    fps: int = 25,
    audio: bool = True,
    video: bool = True,
    shade: int = 0,
    container: str | None = None,
) -> Path:
    """An H.264 (+ AAC 44.1 kHz) clip: a grey level that changes and a moving white bar."""
    w, h = size
    out = av.open(str(path), "w", format=container)
    rate = 44_100
    if video:  # both streams are added before the first packet is written
        v = out.add_stream("libx264", rate=fps)
        v.width, v.height, v.pix_fmt = w, h, "yuv420p"
        v.options = {"preset": "ultrafast"}
    if audio:
        a = out.add_stream("aac", rate=rate)
        a.layout = "stereo"
    if video:
        for i in range(round(seconds * fps)):
            img = np.full((h, w, 3), (shade + i * 7) % 255, np.uint8)
            x = (i * 5) % (w - 20)
            img[:, x : x + 20] = 255
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(v.encode(frame))
        out.mux(v.encode())
    if audio:
        total, pos = round(seconds * rate), 0
        while pos < total:
            n = min(1024, total - pos)
            t = np.arange(pos, pos + n) / rate
            s = (0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)
            frame = av.AudioFrame.from_ndarray(np.stack([s, s]), format="fltp", layout="stereo")
            frame.sample_rate, frame.pts, frame.time_base = rate, pos, Fraction(1, rate)
            out.mux(a.encode(frame))
            pos += n
        out.mux(a.encode())
    out.close()
    return path


def nal_types(data: bytes) -> list[int]:
    """The NAL unit types of an Annex-B H.264 access unit, in order."""
    types = []
    i = data.find(b"\x00\x00\x01")
    while i != -1 and i + 3 < len(data):
        types.append(data[i + 3] & 0x1F)
        i = data.find(b"\x00\x00\x01", i + 3)
    return types


def decoded_frames(path: Path) -> list[np.ndarray]:
    """Every video frame of a file as an RGB array."""
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def decoded_audio(path: Path) -> tuple[np.ndarray, list[int]]:
    """The decoded sound (channels × samples, float) and each decoded frame's sample count."""
    chunks, sizes = [], []
    with av.open(str(path)) as c:
        for frame in c.decode(audio=0):
            sizes.append(frame.samples)
            chunks.append(
                frame.to_ndarray().reshape(frame.layout.nb_channels, -1)
                if frame.format.is_planar
                else frame.to_ndarray().reshape(-1, 2).T
            )
    return np.concatenate(chunks, axis=1).astype(np.float64), sizes
