"""The keyframe index of a rendition file, read back from the MPEG-TS it was written to.

Ingest indexes what it wrote rather than what it meant to write: the index is the
demuxer's own view (packet pts and the byte position of the TS packet where each PES
starts), so the film track can seek to ``byte_offset`` and get exactly that keyframe.
Reading the index only demuxes (no decoding): a 55 s 720p clip takes a few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av


@dataclass(frozen=True, slots=True)
class TsIndex:
    """What a rendition file holds, measured from its packets.

    Attributes:
        keyframes: ``(pts_s, byte_offset)`` per video keyframe, in file order.
        duration_s: from the first video pts to the end of the last video frame.
        audio: whether the file has an audio track with packets.
        width, height: the coded picture size.
    """

    keyframes: tuple[tuple[float, int], ...]
    duration_s: float
    audio: bool
    width: int
    height: int


def index_ts(path: Path) -> TsIndex:
    """Demux ``path`` and index its video keyframes.

    Raises:
        av.FFmpegError: the file is not a readable MPEG-TS (a caller bug after ingest).
        ValueError: the file has no video stream or no video packets.
    """
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise ValueError(f"{path}: no video stream")
        video = container.streams.video[0]
        assert video.time_base is not None
        # MPEG-TS packets rarely carry a duration: fall back to one frame at the stream rate.
        rate = video.average_rate or video.guessed_rate
        frame_ticks = round(1 / (rate * video.time_base)) if rate else 0
        keyframes: list[tuple[float, int]] = []
        first: int | None = None
        last_end = 0
        audio = False
        for packet in container.demux():
            if packet.size == 0 or packet.pts is None:
                continue
            if packet.stream.type == "audio":
                audio = True
                continue
            if packet.stream.index != video.index:
                continue
            if first is None:
                first = packet.pts
            last_end = max(last_end, packet.pts + (packet.duration or frame_ticks))
            if packet.is_keyframe:
                assert packet.time_base is not None
                keyframes.append((float(packet.pts * packet.time_base), packet.pos or 0))
        if first is None:
            raise ValueError(f"{path}: no video packets")
        return TsIndex(
            keyframes=tuple(keyframes),
            duration_s=float((last_end - first) * video.time_base),
            audio=audio,
            width=video.codec_context.width,
            height=video.codec_context.height,
        )


__all__ = ["TsIndex", "index_ts"]
