"""The film over real WebRTC: aiortc peers on 127.0.0.1 decode what the film track sends.

Loopback only: aioice gathers host candidates from ``aioice.ice.get_host_addresses``,
which lists every interface address *except* 127.0.0.1; the ``loopback_only`` fixture
monkeypatches it to return exactly ``["127.0.0.1"]``, and both peers use
``RTCConfiguration(iceServers=[])`` so aiortc does not add its default public STUN server.
No candidate is an mDNS name, so no mDNS query is sent either.

The receiver is the offerer and asks for H.264 only (`setCodecPreferences`), as the phone
page does: aiortc ignores codec preferences set on the answering side.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field

import aioice.ice
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender

from mobile_bridge.film import Film, media_dir_lookup
from tests.mobile_bridge.film.clips import BAR_STEP, WIDTH, bar_x, colour_of, make_film

TIMEOUT_S = 10
CLIPS = {"a": "red", "b": "green", "c": "blue"}


@pytest.fixture
def loopback_only(monkeypatch):
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    root = tmp_path_factory.mktemp("media")
    make_film(root, CLIPS)
    return root


@dataclass
class Phone:
    """A Python receiver: what it decoded and when."""

    pc: RTCPeerConnection
    connected_at: float | None = None
    frames: list[tuple[int, str, int, float]] = field(default_factory=list)  # pts, colour, bar, t
    audio_frames: int = 0
    audio_rate: int = 0
    sent: list = field(default_factory=list)  # the server's tracks for this phone
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_for(self, condition):
        async with asyncio.timeout(TIMEOUT_S):
            while not condition():
                self.changed.clear()
                await self.changed.wait()

    async def close(self):
        await self.pc.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def consume(phone: Phone, track) -> None:
    from aiortc.mediastreams import MediaStreamError

    try:
        while True:
            frame = await track.recv()
            if track.kind == "video":
                rgb = frame.to_ndarray(format="rgb24")
                phone.frames.append((frame.pts, colour_of(rgb), bar_x(rgb), time.monotonic()))
            else:
                phone.audio_frames += 1
                phone.audio_rate = frame.sample_rate
            phone.changed.set()
    except MediaStreamError:
        return


async def connect(film: Film, rendition: str = "360p") -> Phone:
    """Offer from a phone (H.264 only), answer with the film's tracks, wait until connected."""
    config = RTCConfiguration(iceServers=[])
    phone = Phone(RTCPeerConnection(config))
    server = RTCPeerConnection(config)
    video_tx = phone.pc.addTransceiver("video", direction="recvonly")
    h264 = [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType == "video/H264"]
    video_tx.setCodecPreferences(h264)
    phone.pc.addTransceiver("audio", direction="recvonly")

    @phone.pc.on("track")
    def on_track(track):
        task = asyncio.create_task(consume(phone, track))
        phone.tasks.add(task)

    @phone.pc.on("connectionstatechange")
    def on_state():
        if phone.pc.connectionState == "connected" and phone.connected_at is None:
            phone.connected_at = time.monotonic()
            phone.changed.set()

    async with asyncio.timeout(TIMEOUT_S):
        await phone.pc.setLocalDescription(await phone.pc.createOffer())
        await server.setRemoteDescription(phone.pc.localDescription)
        video, audio = film.subscribe(rendition)
        phone.sent = [video, audio]
        server.addTrack(video)
        server.addTrack(audio)
        await server.setLocalDescription(await server.createAnswer())
        assert "H264" in server.localDescription.sdp and "VP8" not in server.localDescription.sdp
        await phone.pc.setRemoteDescription(server.localDescription)
    original_close = phone.close

    async def close_both():
        await original_close()
        await server.close()

    phone.close = close_both  # type: ignore[method-assign]
    return phone


@pytest.mark.asyncio
@pytest.mark.usefixtures("loopback_only")
async def test_a_phone_sees_the_chosen_branch_at_the_boundary_with_no_gap_or_frozen_frame(media):
    film = Film(time.monotonic, media_dir_lookup(media))
    phone = await connect(film)
    try:
        await phone.wait_for(lambda: phone.connected_at is not None)
        start = time.monotonic() + 0.2
        film.play("a", starts_at=start)
        film.prepare(["b", "c"])  # the vote opens
        await phone.wait_for(lambda: len(phone.frames) >= 30)
        film.next("c", starts_at=start + 2.0)  # and closes a second before the boundary
        await phone.wait_for(lambda: sum(1 for f in phone.frames if f[1] == "blue") >= 15)
    finally:
        await phone.close()
        await film.close()

    # packetized once for every peer and sent straight to the peer's SRTP transport
    assert all(track.direct is not None and track.direct.frames_sent for track in phone.sent)
    pts = [f[0] for f in phone.frames]
    assert {b - a for a, b in itertools.pairwise(pts)} == {3000}  # no gap, no repeat
    colours = [f[1] for f in phone.frames]
    switch = colours.index("blue")
    assert set(colours[:switch]) == {"red"} and set(colours[switch:]) == {"blue"}
    # every frame moved the bar: nothing was shown twice
    bars = [f[2] for f in phone.frames]
    assert all(a != b for a, b in itertools.pairwise(bars))
    # a played to its last frame and c from its first: the switch is at the boundary
    assert bars[switch - 1] == (59 * BAR_STEP) % (WIDTH - 16)
    assert bars[switch] == 0


@pytest.mark.asyncio
@pytest.mark.usefixtures("loopback_only")
async def test_a_late_joiner_gets_its_first_picture_within_a_second_and_sound_arrives(media):
    film = Film(time.monotonic, media_dir_lookup(media))
    start = time.monotonic()
    film.play("a", starts_at=start)
    film.next("b", starts_at=start + 2.0)
    first = await connect(film)
    try:
        await first.wait_for(lambda: len(first.frames) >= 10)
        late = await connect(film)  # mid-GOP, while the film plays
        try:
            await late.wait_for(lambda: late.connected_at is not None and late.frames)
            waited = late.frames[0][3] - late.connected_at
            assert waited < 1.0
            await late.wait_for(lambda: late.audio_frames >= 5)
            assert late.audio_rate == 48_000
        finally:
            await late.close()
    finally:
        await first.close()
        await film.close()
    stats = film.stats()["360p"]
    assert stats["dropped"] == 0 and stats["refused"] == 0
