"""The server's WebRTC peers: answer a page's offer, send it the film, take its camera.

A page offers (it knows what it wants: a phone in a `phones-play` room receives video and
audio and, if its owner opted in, sends a 320×240 camera track; a screen only receives;
a phone in a `big-screen` room may only send its camera). The server answers, matching
each offered media section by its direction: sections the page wants to receive get the
film's tracks, sections it sends are received and their frames handed to a callback.

One peer per device and purpose: ``"film"`` (what the page plays, and a camera offered in
the same offer) and ``"camera"`` (a camera-only peer the phone adds and drops when its
viewer turns the camera on and off, so the film is never renegotiated). A page that
reloads and offers again replaces its old peer of that purpose. The
film goes out as H.264 passthrough, so the answer must carry H.264: a page that offered
no H.264 gets `CodecUnsupported` (aiortc ignores a server's codec preferences once the
offer is set, so the page itself puts H.264 first; see DESIGN.md, Media).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Literal

import av
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from aiortc.sdp import SessionDescription

from mobile_bridge.rtp_origin import set_rtp_origin

log = logging.getLogger(__name__)

CameraSink = Callable[[str, av.VideoFrame], None]  # (device, frame)
Purpose = Literal["film", "camera"]


class CodecUnsupported(ValueError):
    """The page's offer has no codec the film can be passed through in (H.264)."""

    code = "codec-unsupported"


class Peers:
    """Every page's peer connections, by device and purpose; owns the camera readers."""

    def __init__(self, configuration: RTCConfiguration, *, camera_fps: float = 4.0) -> None:
        self._configuration = configuration
        self._min_interval_s = 1.0 / camera_fps
        self._peers: dict[tuple[str, Purpose], RTCPeerConnection] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._peers)

    async def answer(
        self,
        device: str,
        offer: RTCSessionDescription,
        *,
        film: Sequence[MediaStreamTrack] = (),
        on_camera: CameraSink | None = None,
        rtp_origin: int | None = None,
        purpose: Purpose = "film",
    ) -> RTCSessionDescription:
        """Answer ``offer`` from ``device``'s page (replacing its peer of that ``purpose``).

        Args:
            film: tracks to send (a video and an audio track); none in a room where this
                page does not play the film.
            on_camera: receives the page's camera frames, at most ``camera_fps`` a second;
                None: camera tracks are not accepted.
            rtp_origin: the RTP timestamp origin of the film's senders (the page maps
                timestamps to due times with it; `mobile_bridge.rtp_origin`); random
                if None.
            purpose: which of the device's peers this offer makes (see the module).

        Raises:
            CodecUnsupported: the page wants video but offered no H.264.
            ValueError: the offer is not valid SDP (aiortc's own error).
        """
        key = (device, purpose)
        await self._close(key)
        wants = _directions(offer.sdp)
        receives_video = any(kind == "video" and d != "sendonly" for kind, d in wants.values())
        if film and receives_video and "H264" not in offer.sdp:
            raise CodecUnsupported("the page offered no H.264 video")
        pc = RTCPeerConnection(self._configuration)
        self._peers[key] = pc

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed") and self._peers.get(key) is pc:
                await self._close(key)

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "video" and on_camera is not None:
                task = asyncio.create_task(self._camera(device, track, on_camera))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

        try:
            await pc.setRemoteDescription(offer)
            unsent = list(film)
            for transceiver in pc.getTransceivers():
                _, direction = wants.get(transceiver.mid or "", (transceiver.kind, "inactive"))
                if direction in ("recvonly", "sendrecv"):  # the page wants to receive
                    track = next((t for t in unsent if t.kind == transceiver.kind), None)
                    if track is not None:
                        unsent.remove(track)
                        transceiver.sender.replaceTrack(track)
                        if rtp_origin is not None:
                            set_rtp_origin(transceiver.sender, rtp_origin)
                        transceiver.direction = "sendonly"
                    else:
                        transceiver.direction = "inactive"
                elif direction == "sendonly" and on_camera is not None:
                    transceiver.direction = "recvonly"
                else:
                    transceiver.direction = "inactive"
            await pc.setLocalDescription(await pc.createAnswer())
        except BaseException:
            await self._close(key)
            raise
        return pc.localDescription

    async def close(self, device: str, purpose: Purpose | None = None) -> bool:
        """Close the device's peer of ``purpose`` (None: all of them); True if one was open."""
        keys = [k for k in self._peers if k[0] == device and purpose in (None, k[1])]
        for key in keys:
            await self._close(key)
        return bool(keys)

    async def _close(self, key: tuple[str, Purpose]) -> None:
        pc = self._peers.pop(key, None)
        if pc is not None:
            await pc.close()

    async def close_all(self) -> None:
        for key in list(self._peers):
            await self._close(key)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _camera(self, device: str, track: MediaStreamTrack, sink: CameraSink) -> None:
        """Hand on at most ``camera_fps`` frames a second; the rest are dropped unread."""
        last = float("-inf")
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if not isinstance(frame, av.VideoFrame) or frame.time is None:
                    continue
                if frame.time - last >= self._min_interval_s:
                    last = frame.time
                    try:
                        sink(device, frame)
                    except Exception:
                        log.exception("camera sink failed on a frame from %s", device)


def _directions(sdp: str) -> dict[str, tuple[str, str]]:
    """``{mid: (kind, direction)}`` of each media section, as the offering page means it.

    Raises:
        ValueError: not SDP aiortc can read, or no audio or video section in it.
    """
    try:
        parsed = SessionDescription.parse(sdp)
    except (ValueError, IndexError, KeyError) as exc:  # aiortc's parser raises all three
        raise ValueError(f"unreadable SDP ({type(exc).__name__})") from exc
    sections = {
        str(media.rtp.muxId): (media.kind, media.direction or "sendrecv")
        for media in parsed.media
        if media.kind in ("audio", "video")
    }
    if not sections:
        raise ValueError("the offer has no audio or video section")
    return sections


__all__ = ["CameraSink", "CodecUnsupported", "Peers", "Purpose"]
