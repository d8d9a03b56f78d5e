"""Encoded packets of one clip, read from its MPEG-TS rendition without decoding.

The film track never decodes: it demuxes the H.264 (Annex-B) and Opus packets that
ingest wrote and hands them on. A clip is read one GOP at a time (`ClipStream.next_gop`),
so the reader can pre-read a candidate branch's first GOP while a vote is open and keep
one GOP of look-ahead during playback. Everything here blocks on file I/O: the async
shell calls it in an executor.

Times are seconds from the start of the file (the earliest start of its streams), so a
packet is due at ``scene.starts_at + pts_s`` on the room clock. Audio may come from the
same file (Opus in MPEG-TS, what ingest writes) or from a sibling file; both are merged
in due order, and `PacketSource` is the one interface the reader needs, so another
container or a test's in-memory list can stand in.
"""

from __future__ import annotations

import enum
import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import av
import av.container


class Kind(enum.Enum):
    VIDEO = "video"
    AUDIO = "audio"


@dataclass(frozen=True, slots=True)
class EncodedPacket:
    """One encoded frame as stored: Annex-B H.264 access unit or one Opus packet.

    Attributes:
        kind: video or audio.
        data: the payload, exactly as demuxed (never re-encoded).
        pts_s: presentation time from the start of the clip, seconds.
        keyframe: an IDR picture (video, with SPS/PPS before it); every Opus packet is.
    """

    kind: Kind
    data: bytes
    pts_s: float
    keyframe: bool


class PacketSource(Protocol):
    """Where a clip's packets come from: a file, two files, a list in a test."""

    def packets(self) -> Iterator[EncodedPacket]:
        """The clip's packets in file order (video and audio interleaved by pts)."""
        ...

    def close(self) -> None:
        """Release the file; `packets` must not be iterated afterwards."""
        ...


def _demux(container: av.container.InputContainer) -> Iterator[EncodedPacket]:
    streams = [s for s in container.streams if s.type in ("video", "audio")]
    starts = [
        s.start_time * s.time_base
        for s in streams
        if s.start_time is not None and s.time_base is not None
    ]
    origin = min(starts, default=0)
    for packet in container.demux(streams):
        if packet.size == 0 or packet.pts is None or packet.time_base is None:
            continue  # the demuxer's flush packets carry nothing
        kind = Kind.VIDEO if packet.stream.type == "video" else Kind.AUDIO
        yield EncodedPacket(
            kind=kind,
            data=bytes(packet),
            pts_s=float(packet.pts * packet.time_base - origin),
            keyframe=kind is Kind.AUDIO or packet.is_keyframe,
        )


class TsSource:
    """A clip's packets from an MPEG-TS file, and optionally audio from a sibling file."""

    def __init__(self, path: Path, audio_path: Path | None = None) -> None:
        self.path = path
        self._containers = [av.open(str(path), mode="r")]
        if audio_path is not None:
            self._containers.append(av.open(str(audio_path), mode="r"))

    def packets(self) -> Iterator[EncodedPacket]:
        if len(self._containers) == 1:
            return _demux(self._containers[0])
        video = (p for p in _demux(self._containers[0]) if p.kind is Kind.VIDEO)
        audio = (p for p in _demux(self._containers[1]) if p.kind is Kind.AUDIO)
        return heapq.merge(video, audio, key=lambda p: p.pts_s)

    def close(self) -> None:
        for container in self._containers:
            container.close()


class ClipStream:
    """A clip read one GOP at a time; the first GOP may already be in memory.

    A GOP here is a video keyframe and everything in file order up to the next one
    (audio included), so the first GOP alone starts the picture and the sound.
    """

    def __init__(self, source: PacketSource) -> None:
        self._source = source
        self._packets = source.packets()
        self._held: EncodedPacket | None = None  # the keyframe that ended the last GOP
        self._done = False
        self.head: list[EncodedPacket] | None = None

    def preread(self) -> ClipStream:
        """Read the first GOP now (blocking) so `next_gop` returns it from memory."""
        if self.head is None:
            self.head = self._read_gop()
        return self

    def next_gop(self) -> list[EncodedPacket]:
        """The next GOP (blocking); an empty list once the clip is over."""
        if self.head is not None:
            head, self.head = self.head, []
            if head:
                return head
        return self._read_gop()

    def _read_gop(self) -> list[EncodedPacket]:
        gop: list[EncodedPacket] = []
        if self._held is not None:
            gop.append(self._held)
            self._held = None
        seen_video = any(p.kind is Kind.VIDEO for p in gop)
        while not self._done:
            packet = next(self._packets, None)
            if packet is None:
                self._done = True
                break
            if packet.kind is Kind.VIDEO and packet.keyframe and seen_video:
                self._held = packet
                break
            seen_video = seen_video or packet.kind is Kind.VIDEO
            gop.append(packet)
        return gop

    def close(self) -> None:
        self._done = True
        self._source.close()


def open_clip(path: Path, audio_path: Path | None = None) -> ClipStream:
    """Open a rendition file for reading by GOPs (blocking: call it in an executor)."""
    return ClipStream(TsSource(path, audio_path))


__all__ = ["ClipStream", "EncodedPacket", "Kind", "PacketSource", "TsSource", "open_clip"]
