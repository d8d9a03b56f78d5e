"""The server's WebRTC peers over real aiortc connections on 127.0.0.1."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator

import av
import pytest
from aiortc import (
    MediaStreamTrack,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)

from mobile_bridge.ice import ice_configuration, restrict_host_addresses
from mobile_bridge.peers import CodecUnsupported, Peers
from tests.mobile_bridge.cameras import Camera

TIMEOUT_S = 10


@pytest.fixture(autouse=True)
def loopback_only() -> Iterator[None]:
    restrict_host_addresses(["127.0.0.1"])
    yield
    restrict_host_addresses(None)


def prefer(pc: RTCPeerConnection, kind: str, mime: str) -> None:
    codecs = RTCRtpSender.getCapabilities(kind).codecs
    for transceiver in pc.getTransceivers():
        if transceiver.kind == kind:
            transceiver.setCodecPreferences([c for c in codecs if c.mimeType == mime])


async def offer_of(pc: RTCPeerConnection) -> RTCSessionDescription:
    await pc.setLocalDescription(await pc.createOffer())
    return pc.localDescription


@pytest.mark.asyncio
async def test_a_camera_track_reaches_the_sink_at_the_configured_rate():
    peers = Peers(ice_configuration(), camera_fps=5)
    frames: list[tuple[str, av.VideoFrame]] = []
    enough = asyncio.Event()

    def sink(device: str, frame: av.VideoFrame) -> None:
        frames.append((device, frame))
        if len(frames) >= 4:
            enough.set()

    phone = RTCPeerConnection()
    camera = Camera()
    phone.addTransceiver(camera, direction="sendonly")
    try:
        answer = await peers.answer("d-1", await offer_of(phone), on_camera=sink)
        assert "a=recvonly" in answer.sdp
        await phone.setRemoteDescription(answer)
        async with asyncio.timeout(TIMEOUT_S):
            await enough.wait()
    finally:
        await phone.close()
        await peers.close_all()
    assert {device for device, _ in frames} == {"d-1"}
    assert (frames[0][1].width, frames[0][1].height) == (320, 240)
    times = [frame.time for _, frame in frames]
    assert all(b - a >= 0.2 - 1e-6 for a, b in itertools.pairwise(times))
    assert camera.count > len(frames)  # the rest were dropped, not queued


@pytest.mark.asyncio
async def test_a_page_receives_the_film_in_h264_on_loopback_only():
    peers = Peers(ice_configuration())
    screen = RTCPeerConnection()
    screen.addTransceiver("video", direction="recvonly")
    prefer(screen, "video", "video/H264")
    got_frame = asyncio.get_running_loop().create_future()
    tasks: set[asyncio.Future[None]] = set()

    @screen.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        async def first() -> None:
            got_frame.set_result(await track.recv())

        tasks.add(asyncio.ensure_future(first()))

    film = Camera()
    try:
        answer = await peers.answer("s-1", await offer_of(screen), film=[film])
        candidates = [line for line in answer.sdp.splitlines() if line.startswith("a=candidate")]
        assert candidates and all(" 127.0.0.1 " in line for line in candidates)
        video = answer.sdp.split("m=video", 1)[1]
        assert "H264/90000" in video and "VP8" not in video
        assert "a=sendonly" in video
        await screen.setRemoteDescription(answer)
        async with asyncio.timeout(TIMEOUT_S):
            frame = await got_frame
        assert isinstance(frame, av.VideoFrame)
    finally:
        await screen.close()
        await peers.close_all()


@pytest.mark.asyncio
async def test_an_offer_without_h264_is_refused_and_a_new_offer_replaces_the_peer():
    peers = Peers(ice_configuration())
    vp8_only = RTCPeerConnection()
    vp8_only.addTransceiver("video", direction="recvonly")
    prefer(vp8_only, "video", "video/VP8")
    with pytest.raises(CodecUnsupported):
        await peers.answer("d-1", await offer_of(vp8_only), film=[Camera()])
    assert len(peers) == 0
    first, second = RTCPeerConnection(), RTCPeerConnection()
    try:
        for pc in (first, second):
            pc.addTransceiver("video", direction="recvonly")
            prefer(pc, "video", "video/H264")
            await peers.answer("d-1", await offer_of(pc), film=[Camera()])
        assert len(peers) == 1  # the reloaded page's peer replaced its old one
    finally:
        for pc in (vp8_only, first, second):
            await pc.close()
        await peers.close_all()


def test_no_ice_server_unless_configured():
    assert ice_configuration().iceServers == []
    configured = ice_configuration(
        stun_urls=["stun:stun.example.org:3478"],
        turn_urls=["turn:turn.example.org:3478"],
        turn_username="kino",
        turn_password="secret",
    )
    assert [s.urls for s in configured.iceServers] == [
        ["stun:stun.example.org:3478"],
        ["turn:turn.example.org:3478"],
    ]
    assert configured.iceServers[1].credential == "secret"
