"""The fan-out benchmark's phones: aiortc receivers in their own process.

Started by ``bench/fanout.py``, never by hand. It speaks JSON lines on stdin/stdout:

* ``{"op": "offer", "n": K}`` → ``{"offers": [sdp, ...]}``: K new receivers, each offering
  recvonly H.264 video (the only video codec, as the phone page asks) and Opus audio;
* ``{"op": "answer", "sdps": [...]}`` → ``{"connected": C, "failed": F}`` once the
  pending receivers are connected (ICE + DTLS) or failed;
* ``{"op": "stats"}`` → packets, video frames and late frames since the last ``stats``,
  and this process's CPU seconds;
* ``{"op": "frames"}`` (``--decode`` only) → what each receiver decoded and when;
* ``{"op": "close"}`` → ``{"closed": N}``; end of input ends the process.

A **sink** (the default) must not cost the measured server anything and must keep up
with hundreds of phones on the one core the server leaves free, so SRTP/SRTCP never
reaches aiortc: `StunProtocol.datagram_received` is patched to count an RTP datagram
from its clear header (sequence, timestamp, SSRC, marker) and drop it there, before
aioice queues it and aiortc unprotects, depacketizes and decodes it. STUN (consent
checks) and DTLS still go through, so every connection stays up as a phone's would.
Late frames are measured from the clear header too (`FrameLateness`), as a cross-check
of the server's own measurement.

With ``--decode`` the receivers are real: they decode every frame (late join, switch).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import aioice.ice
from aiortc import (
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcconfiguration import RTCBundlePolicy

AUDIO_PT = 96  # aiortc offers Opus first, with this payload type; every other PT is video
VIDEO_CLOCK = 90_000
FRAME_S = 1 / 30
BEHIND_S = 0.25  # later than this, a phone's jitter buffer no longer hides it


class FrameLateness:
    """Per SSRC, how much later than its RTP timestamp says each video frame went by.

    Called with the last packet of each frame (the marker bit). A stream's offset is
    ``now - timestamp / 90 kHz`` from its first frame; the smallest offset seen is the
    stream being on time, and a frame whose offset is more than one frame interval
    above it is **late**: it left (or arrived) after the next one was due. A frame more
    than ``behind_s`` late is **behind**: more than a phone's jitter buffer hides.
    """

    def __init__(self, threshold_s: float = FRAME_S, behind_s: float = BEHIND_S) -> None:
        self.threshold_s = threshold_s
        self.behind_s = behind_s
        self.behind = 0
        self._first: dict[int, tuple[int, float]] = {}
        self._min: dict[int, float] = {}
        self.frames = 0
        self.late = 0
        self.max_late_s = 0.0

    def frame(self, ssrc: int, timestamp: int, now: float) -> None:
        first = self._first.get(ssrc)
        self.frames += 1
        if first is None:
            self._first[ssrc] = (timestamp, now)
            self._min[ssrc] = 0.0
            return
        media_s = ((timestamp - first[0] + 0x80000000) % 0x100000000 - 0x80000000) / VIDEO_CLOCK
        offset = now - first[1] - media_s
        least = self._min[ssrc]
        if offset < least:
            self._min[ssrc] = least = offset
        late_s = offset - least
        if late_s > self.threshold_s:
            self.late += 1
            if late_s > self.behind_s:
                self.behind += 1
        if late_s > self.max_late_s:
            self.max_late_s = late_s

    def see(self, data: bytes, now: float) -> None:
        """One datagram as sent or received: counts the last packet of each video frame."""
        if len(data) < 12 or not 127 < data[0] < 192 or 191 < data[1] < 224:
            return  # STUN, DTLS or RTCP
        if data[1] & 0x80 and data[1] & 0x7F != AUDIO_PT:
            self.frame(int.from_bytes(data[8:12]), int.from_bytes(data[4:8]), now)

    def take(self) -> dict[str, Any]:
        """The counts since the last call (the minimum offsets are kept)."""
        out = {
            "frames": self.frames,
            "late_frames": self.late,
            "behind_frames": self.behind,
            "max_late_ms": self.max_late_s * 1e3,
        }
        self.frames = self.late = self.behind = 0
        self.max_late_s = 0.0
        return out

    def forget(self) -> None:
        self._first.clear()
        self._min.clear()


@dataclass
class Receiver:
    pc: RTCPeerConnection
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    failed: bool = False
    connected_at: float | None = None
    offered_at: float = 0.0
    frames: list[tuple[int, float, float, float]] = field(default_factory=list)
    audio_frames: int = 0
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


class Sink:
    def __init__(self, decode: bool) -> None:
        self.decode = decode
        self.receivers: list[Receiver] = []
        self.pending: list[Receiver] = []
        self.lateness = FrameLateness()
        self.packets = 0
        self.bytes = 0

    def on_datagram(self, data: bytes) -> None:
        self.packets += 1
        self.bytes += len(data)
        self.lateness.see(data, time.monotonic())

    async def offer(self, n: int) -> dict[str, Any]:
        sdps = []
        for _ in range(n):
            config = RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
            receiver = Receiver(RTCPeerConnection(config), offered_at=time.monotonic())
            video = receiver.pc.addTransceiver("video", direction="recvonly")
            h264 = [
                c
                for c in RTCRtpSender.getCapabilities("video").codecs
                if c.mimeType == "video/H264"
            ]
            video.setCodecPreferences(h264)
            receiver.pc.addTransceiver("audio", direction="recvonly")
            self._watch(receiver)
            await receiver.pc.setLocalDescription(await receiver.pc.createOffer())
            sdps.append(receiver.pc.localDescription.sdp)
            self.pending.append(receiver)
        return {"offers": sdps}

    def _watch(self, receiver: Receiver) -> None:
        pc = receiver.pc

        @pc.on("connectionstatechange")
        def on_state() -> None:
            if pc.connectionState == "connected" and receiver.connected_at is None:
                receiver.connected_at = time.monotonic()
                receiver.connected.set()
            elif pc.connectionState in ("failed", "closed"):
                receiver.failed = True
                receiver.connected.set()

        if self.decode:

            @pc.on("track")
            def on_track(track: MediaStreamTrack) -> None:
                task = asyncio.create_task(self._consume(receiver, track))
                receiver.tasks.add(task)

    async def _consume(self, receiver: Receiver, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                if track.kind != "video":
                    receiver.audio_frames += 1
                    continue
                yuv = frame.to_ndarray(format="yuv420p")  # type: ignore[attr-defined]
                height = frame.height  # type: ignore[attr-defined]
                band = float(yuv[: height // 10].mean())
                chroma = float(yuv[height:].mean())
                receiver.frames.append((frame.pts or 0, time.monotonic(), band, chroma))
        except MediaStreamError:
            return

    async def answer(self, sdps: list[str], timeout_s: float = 30.0) -> dict[str, Any]:
        batch, self.pending = self.pending, []
        for receiver, sdp in zip(batch, sdps, strict=True):
            await receiver.pc.setRemoteDescription(RTCSessionDescription(sdp, "answer"))
        try:
            async with asyncio.timeout(timeout_s):
                await asyncio.gather(*(r.connected.wait() for r in batch))
        except TimeoutError:
            pass
        ok = [r for r in batch if r.connected_at is not None and not r.failed]
        self.receivers.extend(batch)
        return {"connected": len(ok), "failed": len(batch) - len(ok)}

    def stats(self) -> dict[str, Any]:
        out = {"packets": self.packets, "bytes": self.bytes, "cpu_s": time.process_time()}
        out.update(self.lateness.take())
        self.packets = self.bytes = 0
        return out

    def frames(self) -> dict[str, Any]:
        return {
            "receivers": [
                {
                    "offered_at": r.offered_at,
                    "connected_at": r.connected_at,
                    "frames": r.frames,
                    "audio_frames": r.audio_frames,
                }
                for r in self.receivers
            ]
        }

    async def close(self) -> dict[str, Any]:
        closing = self.receivers + self.pending
        self.receivers, self.pending = [], []
        await asyncio.gather(*(r.pc.close() for r in closing), return_exceptions=True)
        for receiver in closing:
            for task in receiver.tasks:
                task.cancel()
            await asyncio.gather(*receiver.tasks, return_exceptions=True)
        self.lateness.forget()
        return {"closed": len(closing)}


def drop_rtp_at_the_socket(sink: Sink) -> None:
    """Count SRTP/SRTCP datagrams and drop them before aioice and aiortc see them."""
    original = aioice.ice.StunProtocol.datagram_received

    def datagram_received(self: aioice.ice.StunProtocol, data: bytes, addr: Any) -> None:
        if 127 < data[0] < 192:
            sink.on_datagram(data)
            return
        original(self, data, addr)

    aioice.ice.StunProtocol.datagram_received = datagram_received  # type: ignore[method-assign]


async def serve(decode: bool) -> None:
    sink = Sink(decode)
    if not decode:
        drop_rtp_at_the_socket(sink)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 26)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        while line := await reader.readline():
            command = json.loads(line)
            op = command["op"]
            if op == "offer":
                reply = await sink.offer(command["n"])
            elif op == "answer":
                reply = await sink.answer(command["sdps"])
            elif op == "stats":
                reply = sink.stats()
            elif op == "frames":
                reply = sink.frames()
            elif op == "close":
                reply = await sink.close()
            else:
                reply = {"error": f"unknown op {op!r}"}
            sys.stdout.write(json.dumps(reply) + "\n")
            sys.stdout.flush()
    finally:
        await sink.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decode", action="store_true", help="decode what arrives")
    args = parser.parse_args()
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]  # type: ignore[assignment]
    asyncio.run(serve(args.decode))


if __name__ == "__main__":
    main()
