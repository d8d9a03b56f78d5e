"""The per-peer film tracks: aiortc `MediaStreamTrack`s whose `recv()` returns packets.

aiortc's `RTCRtpSender` sends whatever `recv()` returns; for an `av.Packet` it skips the
encoder and calls ``encoder.pack(packet)``: H.264 splits the Annex-B access unit at its
start codes and packetizes the NAL units (FU-A/STAP-A), Opus sends the packet as is; the
RTP timestamp is ``packet.pts`` converted from ``packet.time_base`` to the codec clock,
plus the sender's random origin. The reader sets pts on the film's RTP line with a
time base equal to the codec clock (1/90000, 1/48000), so nothing is rounded twice.

The sender does not pace: it sends each packet as soon as `recv()` returns it, so the
pacing is the reader's (packets are published when due) and a track only waits on its
queue. A track joins the fan-out at its first `recv()` — when the sender starts, after
ICE and DTLS — not when it is created, so the time a phone spends connecting neither
fills its queue nor bursts stale packets at it.
"""

from __future__ import annotations

import asyncio

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.stream import Stream

from mobile_bridge.film.fanout import FanOut, PeerQueue


class FilmTrack(MediaStreamTrack):
    """One peer's video or audio of the film, fed by a bounded `PeerQueue`."""

    def __init__(self, kind: str, fanout: FanOut[av.Packet[Stream]]) -> None:
        super().__init__()
        self.kind = kind
        self._fanout = fanout
        self.queue: PeerQueue[av.Packet[Stream]] | None = None
        self._waiter: asyncio.Future[None] | None = None

    def attach(self) -> PeerQueue[av.Packet[Stream]]:
        """Join the fan-out now (the first `recv()` does it when not done before)."""
        if self.queue is None:
            self.queue = self._fanout.subscribe(self._ready)
        return self.queue

    def _ready(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def recv(self) -> av.Packet[Stream]:
        """The next packet for this peer; raises `MediaStreamError` once the film ends."""
        if self.readyState != "live":
            raise MediaStreamError
        queue = self.attach()
        while True:
            packet = queue.pop()
            if packet is not None:
                return packet
            if queue.closed:
                self.stop()
                raise MediaStreamError
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def stop(self) -> None:
        if self.queue is not None:
            self._fanout.unsubscribe(self.queue)
        self._ready()
        super().stop()


__all__ = ["FilmTrack"]
