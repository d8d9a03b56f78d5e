"""The fan-out benchmark's film: a 360p rendition with ingest's profile, long enough.

`make_clip` encodes ``seconds`` of a scrolling random texture (with grain, so that x264
spends the rendition's bit budget, ~0.7 Mbps, as a real film would: a flat test card
costs a tenth of the packets) and a tone, with `mobile_bridge.media.renditions.RenditionWriter`
and the 360p profile: H.264 constrained baseline, 1-s GOP, SPS/PPS per IDR, Opus 60 ms.
`loop_clip` remuxes it end to end (no re-encode) into a file as long as a run needs,
because aiortc's ``MediaPlayer(loop=True)`` breaks its pacing.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from mobile_bridge.media.renditions import AUDIO_RATE, RENDITIONS, RenditionWriter

FPS = 30


def make_clip(path: Path, *, seconds: int = 10, tint: int = 0, seed: int = 1) -> Path:
    """Encode ``seconds`` of 360p film to ``path``; ``tint`` shifts the chroma (a branch)."""
    rendition = RENDITIONS["360p"]
    width, height = rendition.width, rendition.height
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (height // 8, width * 2 // 8), dtype=np.uint8)
    texture = np.repeat(np.repeat(small, 8, axis=0), 8, axis=1)  # 8x8 blocks, scrolling
    chroma = np.full((height // 2, width // 2), 128 + tint, dtype=np.uint8)
    samples_per_frame = AUDIO_RATE // FPS
    with RenditionWriter(path, rendition, Fraction(FPS), audio=True, preset="ultrafast") as out:
        for i in range(seconds * FPS):
            x = (i * 3) % width
            luma = texture[:, x : x + width].copy()
            luma[: height // 8] = 16 + (i * 8) % 200  # a band whose shade changes every frame
            grain = rng.integers(-3, 4, luma.shape, dtype=np.int16)
            luma = np.clip(luma.astype(np.int16) + grain, 0, 255).astype(np.uint8)
            frame = av.VideoFrame(width, height, "yuv420p")
            frame.planes[0].update(luma.tobytes())
            frame.planes[1].update(chroma.tobytes())
            frame.planes[2].update(chroma.tobytes())
            out.write_video(frame)
            t = (np.arange(i * samples_per_frame, (i + 1) * samples_per_frame)) / AUDIO_RATE
            tone = (0.2 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)[None, :]
            sound = av.AudioFrame.from_ndarray(tone, format="flt", layout="mono")
            sound.sample_rate = AUDIO_RATE
            out.write_audio(sound)
    return path


def loop_clip(clip: Path, out: Path, times: int) -> Path:
    """Write ``clip`` ``times`` over, end to end, with continuous timestamps (no re-encode)."""
    with av.open(str(clip)) as first:
        span = {s.index: 0 for s in first.streams}
        for packet in first.demux():
            if packet.pts is not None and packet.duration:
                end = packet.pts + packet.duration
                span[packet.stream.index] = max(span[packet.stream.index], end)
        length = dict(span.items())
    with av.open(str(out), "w", format="mpegts") as sink:
        with av.open(str(clip)) as source:
            streams = {s.index: sink.add_stream_from_template(s) for s in source.streams}
        for n in range(times):
            with av.open(str(clip)) as source:
                origin = {s.index: s.start_time or 0 for s in source.streams}
                for packet in source.demux():
                    if packet.pts is None or packet.size == 0:
                        continue
                    shift = n * (length[packet.stream.index] - origin[packet.stream.index])
                    packet.pts += shift
                    if packet.dts is not None:
                        packet.dts += shift
                    packet.stream = streams[packet.stream.index]
                    sink.mux(packet)
    return out
