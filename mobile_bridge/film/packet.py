"""One encoded frame as the fan-out shares it between every peer of a rendition.

The reader stamps a frame once on the film's continuous RTP line and publishes one
`FilmPacket`; each peer gets a reference to the same object. What a peer's sending path
needs is made on first use and kept, so it is made once per room and rendition however
many peers there are: the RTP payloads and their layout in a send buffer for peers sent
directly (`direct`; one layout per header and tag size, which all peers of a room
usually share), or an `av.Packet` for peers whose aiortc `RTCRtpSender` packs it itself
(the fallback).
"""

from __future__ import annotations

import fractions

import av
from av.stream import Stream

from mobile_bridge.film.rtp import Layout, packetize
from mobile_bridge.film.timeline import AUDIO_CLOCK_RATE, VIDEO_CLOCK_RATE

VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK_RATE)
AUDIO_TIME_BASE = fractions.Fraction(1, AUDIO_CLOCK_RATE)


class FilmPacket:
    """An H.264 access unit or Opus packet and its timestamp on the codec clock.

    Attributes:
        data: the encoded frame as ingest wrote it.
        pts: its RTP timestamp before a peer's random origin (90 kHz or 48 kHz).
        video: H.264 (True) or Opus.
        keyframe: a picture a decoder can start from (every Opus packet is one).
    """

    __slots__ = ("_av", "_layouts", "_payloads", "data", "keyframe", "pts", "video")

    def __init__(self, data: bytes, pts: int, *, video: bool, keyframe: bool = True) -> None:
        self.data = data
        self.pts = pts
        self.video = video
        self.keyframe = keyframe
        self._av: av.Packet[Stream] | None = None
        self._payloads: tuple[bytes, ...] | None = None
        self._layouts: dict[tuple[int, int], Layout] = {}

    def __bytes__(self) -> bytes:
        return self.data

    def payloads(self) -> tuple[bytes, ...]:
        """The RTP payloads, cut on the first call (`rtp.packetize`)."""
        if self._payloads is None:
            self._payloads = packetize(self.data, video=self.video)
        return self._payloads

    def layout(self, header: int, tag: int) -> Layout:
        """The payloads laid out for ``header`` and ``tag`` bytes (`rtp.Layout`), made once."""
        key = (header, tag)
        layout = self._layouts.get(key)
        if layout is None:
            layout = self._layouts[key] = Layout.of(self.payloads(), header, tag)
        return layout

    def av_packet(self) -> av.Packet[Stream]:
        """The `av.Packet` an aiortc `RTCRtpSender` packs itself, made on the first call."""
        if self._av is None:
            packet = av.Packet(self.data)
            packet.pts = self.pts
            packet.time_base = VIDEO_TIME_BASE if self.video else AUDIO_TIME_BASE
            self._av = packet
        return self._av


__all__ = ["AUDIO_TIME_BASE", "VIDEO_TIME_BASE", "FilmPacket"]
