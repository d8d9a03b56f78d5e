"""The per-peer film tracks: aiortc `MediaStreamTrack`s fed by the fan-out.

Two ways out to a peer, chosen at the first ``recv()``:

* **direct** (the normal case): ``recv()`` is called by an aiortc `RTCRtpSender`'s
  ``_run_rtp``; the track takes that sender over (`direct.DirectSender`) and from then
  on the fan-out's frames are protected and sent to the peer as they are published, in
  the reader's task, with RTP payloads cut once per frame for every peer. ``recv()``
  only waits for the track to end.
* **packets** (any other caller): ``recv()`` returns each frame as an `av.Packet`, and
  aiortc's sender packs it (``encoder.pack``: H.264 split at start codes, FU-A/STAP-A;
  Opus as is) and stamps ``pts`` plus its random origin. The reader sets pts on the
  film's RTP line with a time base equal to the codec clock, so nothing is rounded twice.

Neither paces: a frame goes out when the reader publishes it, when it is due. A track
joins the fan-out at its first `recv()` — when the sender starts, after ICE and DTLS —
not when it is created, so the time a phone spends connecting neither fills its queue
nor bursts stale packets at it.
"""

from __future__ import annotations

import asyncio
import logging

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.stream import Stream

from mobile_bridge.film.direct import DirectSender, send_frame
from mobile_bridge.film.fanout import FanOut, PeerQueue
from mobile_bridge.film.packet import FilmPacket

logger = logging.getLogger(__name__)


class FilmTrack(MediaStreamTrack):
    """One peer's video or audio of the film, fed by a bounded `PeerQueue`."""

    def __init__(
        self, kind: str, fanout: FanOut[FilmPacket], *, direct: bool = True, gso: bool = True
    ) -> None:
        super().__init__()
        self.kind = kind
        self._may_send_directly = direct
        self._gso = gso
        self._fanout = fanout
        self.queue: PeerQueue[FilmPacket] | None = None
        self.direct: DirectSender | None = None
        self._waiter: asyncio.Future[None] | None = None

    def attach(self) -> PeerQueue[FilmPacket]:
        """Join the fan-out now (the first `recv()` does it when not done before)."""
        if self.queue is None:
            self.queue = self._fanout.subscribe(self._ready)
            self._ready()  # a catch-up GOP may already be waiting
        return self.queue

    def _ready(self) -> None:
        if self.direct is not None and self.queue is not None and not self.queue.closed:
            self._send_direct(self.queue, self.direct)
            return
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _gone(self) -> None:
        """End the track (its transport is gone), but not within the fan-out's pass."""
        asyncio.get_running_loop().call_soon(self.stop)

    def _send_direct(self, queue: PeerQueue[FilmPacket], direct: DirectSender) -> None:
        """Send what the queue holds now (called from the fan-out, in the reader's task)."""
        while (frame := queue.pop()) is not None:
            if not direct.send(frame):
                self._gone()
                return

    async def recv(self) -> av.Packet[Stream]:
        """The next packet for this peer; raises `MediaStreamError` once the film ends.

        Called by an aiortc sender, it sends directly and returns only by raising.
        """
        if self.readyState != "live":
            raise MediaStreamError
        if self.queue is None and self._may_send_directly:
            self.direct = DirectSender.of_running_sender(video=self.kind == "video", gso=self._gso)
        queue = self.attach()
        if self.direct is not None and queue.consumer is None and not queue.closed:
            self.direct.on_gone = self._gone
            if self._fanout.deliver is None:  # a fan-out of our own (the reader sets one)
                self._fanout.deliver = send_frame
            queue.consumer = self.direct  # the fan-out hands it each frame in its pass
        while True:
            if self.direct is None and (packet := queue.pop()) is not None:
                return packet.av_packet()
            if queue.closed or self.readyState != "live":
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
