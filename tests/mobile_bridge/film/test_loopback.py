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
import logging
import socket
import time
from dataclasses import dataclass, field

import aioice.ice
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender
from aiortc.rtp import RtpPacket

from mobile_bridge.film import Film, gso, media_dir_lookup
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


@pytest.fixture(scope="module")
def textured(tmp_path_factory):
    """A clip whose frames take several packets each (GSO batches), like a real film's."""
    root = tmp_path_factory.mktemp("textured")
    make_film(root, {"t": "red"}, textured=True)
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
    server: RTCPeerConnection | None = None
    rtp: list[RtpPacket] = field(default_factory=list)  # video RTP as aiortc received it
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
    server = phone.server = RTCPeerConnection(config)
    video_tx = phone.pc.addTransceiver("video", direction="recvonly")
    h264 = [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType == "video/H264"]
    video_tx.setCodecPreferences(h264)
    phone.pc.addTransceiver("audio", direction="recvonly")
    receiver = video_tx.receiver
    handle = receiver._handle_rtp_packet

    async def record(packet: RtpPacket, arrival_time_ms: int) -> None:
        phone.rtp.append(packet)
        await handle(packet, arrival_time_ms)

    receiver._handle_rtp_packet = record  # type: ignore[method-assign]

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


def by_frame(phone: Phone) -> dict[int, list[tuple[bytes, int]]]:
    """The phone's video packets (payload, marker) per frame, keyed by the film's RTP time."""
    origin = phone.sent[0].direct.stream.timestamp_origin
    frames: dict[int, list[tuple[bytes, int]]] = {}
    for packet in phone.rtp:
        frames.setdefault((packet.timestamp - origin) % 2**32, []).append(
            (packet.payload, packet.marker)
        )
    return frames


def in_order_and_complete(phone: Phone) -> bool:
    first = phone.rtp[0].sequence_number
    return [(p.sequence_number - first) % 2**16 for p in phone.rtp] == list(range(len(phone.rtp)))


async def play_until(films, phones, frames: int = 45) -> None:
    for phone in phones:
        await phone.wait_for(lambda phone=phone: phone.connected_at is not None)
    start = time.monotonic() + 0.2
    for film in films:
        film.play("t", starts_at=start)
    for phone in phones:
        await phone.wait_for(lambda phone=phone: len(phone.frames) >= frames)


@pytest.mark.asyncio
@pytest.mark.usefixtures("loopback_only")
async def test_a_gso_batch_arrives_as_the_same_rtp_packets_in_order_as_one_datagram_each(textured):
    if not gso.supported():
        pytest.skip("this kernel has no UDP GSO")
    batched = Film(time.monotonic, media_dir_lookup(textured))
    one_by_one = Film(time.monotonic, media_dir_lookup(textured), gso=False)
    phones = [await connect(batched), await connect(one_by_one)]
    try:
        await play_until([batched, one_by_one], phones)
    finally:
        for phone in phones:
            await phone.close()
        await batched.close()
        await one_by_one.close()

    sent_batched, sent_one_by_one = (phone.sent[0].direct for phone in phones)
    assert sent_batched.batches > 0  # frames of several packets went in one system call
    assert sent_one_by_one.batches == 0
    assert sent_one_by_one.datagrams == sent_one_by_one.stream.packets_sent
    frames = [by_frame(phone) for phone in phones]
    common = frames[0].keys() & frames[1].keys()
    assert len(common) >= 40
    assert all(frames[0][pts] == frames[1][pts] for pts in common)  # payloads and markers
    assert sum(len(frames[0][pts]) for pts in common) > len(common)  # multi-packet frames
    assert all(in_order_and_complete(phone) for phone in phones)


@pytest.mark.asyncio
@pytest.mark.usefixtures("loopback_only")
async def test_a_socket_that_refuses_gso_is_sent_one_datagram_per_packet_logged_once(
    textured, caplog, monkeypatch
):
    if not gso.supported():
        pytest.skip("this kernel has no UDP GSO")
    monkeypatch.setattr(gso, "_noted", False)
    caplog.set_level(logging.WARNING, logger="mobile_bridge.film.gso")
    film = Film(time.monotonic, media_dir_lookup(textured))
    phone = await connect(film)
    try:
        await phone.wait_for(lambda: phone.connected_at is not None)
        assert phone.server is not None
        pair = phone.server.getTransceivers()[0].sender.transport.transport._connection._nominated
        ice_socket = pair[1].protocol.transport.get_extra_info("socket")
        ice_socket.setsockopt(socket.SOL_SOCKET, 11, 1)  # SO_NO_CHECK: Linux refuses GSO
        await play_until([film], [phone])
    finally:
        await phone.close()
        await film.close()

    sender = phone.sent[0].direct
    assert sender.batches == 0 and sender.datagrams == sender.stream.packets_sent
    assert caplog.text.count("film-gso-refused") == 1
    assert in_order_and_complete(phone)
    assert {b[0] - a[0] for a, b in itertools.pairwise(phone.frames)} == {3000}  # all decoded
