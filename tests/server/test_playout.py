"""Playout: the `playout` message, its record per room, the metrics and the host's report,
and the film clock in the WebRTC answer that lets a page measure it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.rtp import RtpPacket

from mobile_bridge.client import PhoneClient
from mobile_bridge.join import join_room
from mobile_bridge.protocol import Error, Playout, ProtocolError, parse_client_message
from server.rooms.playout import Playout as Book
from server.rooms.playout import Report, RoomPlayout
from tests.mobile_bridge.film.clips import make_film
from tests.server.conftest import running, settings_for

# -- the message ----------------------------------------------------------------------


def test_a_playout_message_parses():
    message = parse_client_message('{"type": "playout", "offset_ms": 142.5, "frames": 60}')
    assert message == Playout(offset_ms=142.5, frames=60)


@pytest.mark.parametrize(
    "fields",
    [
        {"offset_ms": 1e9, "frames": 60},  # a minute and more: a broken clock, not a delay
        {"offset_ms": "12", "frames": 60},
        {"offset_ms": 12.0, "frames": 0},
        {"offset_ms": 12.0},
        {"offset_ms": 12.0, "frames": 60, "extra": 1},
    ],
)
def test_bad_playout_values_are_bad_messages(fields):
    with pytest.raises(ProtocolError) as caught:
        parse_client_message(json.dumps({"type": "playout", **fields}))
    assert caught.value.code == "bad-message"


def test_nan_offsets_are_refused():
    with pytest.raises(ProtocolError) as caught:
        parse_client_message('{"type": "playout", "offset_ms": NaN, "frames": 3}')
    assert caught.value.code in ("bad-message", "bad-json")


# -- the record ------------------------------------------------------------------------


def test_a_room_sums_up_offsets_per_role_and_the_spread_between_pages():
    room = RoomPlayout(fresh_s=10.0)
    assert room.record(Report("s1", "screen", 0.250, 60, at=100.0)) is None  # one page
    assert room.record(Report("s2", "screen", 0.262, 60, at=100.5)) == pytest.approx(0.012)
    room.record(Report("p1", "phone", 0.240, 60, at=101.0))
    summary = room.summary(now=101.0)
    assert summary["screen"] == {
        "pages": 2, "reports": 2, "p50_ms": 256.0, "p95_ms": 261.4, "spread_ms": 12.0,
    }  # fmt: skip
    assert summary["phone"]["spread_ms"] is None
    assert summary["spread_ms"] == 22.0  # all pages: 240 to 262 ms
    # A page that stopped reporting (left, or its film stopped) leaves the spread.
    later = room.summary(now=110.8)
    assert later["screen"]["pages"] == 0 and later["spread_ms"] is None


def test_a_host_does_not_play_the_film():
    with pytest.raises(ValueError, match="does not play"):
        RoomPlayout().record(Report("h", "host", 0.1, 5, at=0.0))


def test_the_book_forgets_the_oldest_room_past_its_bound():
    book = Book(rooms=2)
    for code in ("A", "B", "C"):
        book.room(code).record(Report("p", "phone", 0.1, 5, at=0.0))
    assert book.summary("A", 0.0) is None
    assert book.summary("C", 0.0) is not None


# -- over the socket -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_reports_reach_the_metrics_and_the_host_report_and_hosts_are_refused(live):
    room = await live.room()
    code = room["code"]
    seat = await join_room(live.url, code, "Ada", http=live.http)
    async with (
        PhoneClient(live.url, code, room["host_token"], "host") as host,
        PhoneClient(live.url, code, seat.token) as phone,
    ):
        await phone._send(Playout(offset_ms=120.0, frames=60))
        await phone._send(Playout(offset_ms=130.0, frames=58))
        await host._send(Playout(offset_ms=1.0, frames=1))
        refused = await host.wait_for(Error, timeout=5)
        assert refused.code == "forbidden"
        # The socket handler records a report as it reads it, in order: once a ping sent
        # after them is answered, both reports are in.
        await phone.sync_clock(1)
        summary = live.services.playout.summary(code, 0.0)
        assert summary is not None and summary["phone"]["reports"] == 2  # type: ignore[index]
    auth = {"Authorization": f"Bearer {room['host_token']}"}
    report = (await live.http.get(f"/api/rooms/{code}/report", headers=auth)).json()
    assert report["playout"]["phone"]["p50_ms"] == 125.0
    assert "screen" not in report["playout"]
    metrics = (await live.http.get("/metrics")).text
    assert 'kinoroom_playout_offset_seconds_count{role="phone"} 2.0' in metrics
    assert 'kinoroom_playout_spread_seconds_count{role="phone"}' not in metrics  # one page


@pytest.mark.asyncio
async def test_ice_config_is_empty_by_default_and_lists_configured_servers(tmp_path: Path):
    async with running(settings_for(tmp_path)) as live:
        assert (await live.http.get("/api/webrtc/config")).json() == {"ice_servers": []}
    configured = settings_for(
        tmp_path, stun_urls=["stun:stun.example.org:3478"], turn_urls=["turn:t.example.org"],
        turn_username="u", turn_password="p",
    )  # fmt: skip
    async with running(configured) as live:
        servers = (await live.http.get("/api/webrtc/config")).json()["ice_servers"]
    assert servers == [
        {"urls": ["stun:stun.example.org:3478"], "username": None, "credential": None},
        {"urls": ["turn:t.example.org"], "username": "u", "credential": "p"},
    ]


# -- the film clock --------------------------------------------------------------------

STORY = """
kinoroom: 1
title: One reel
start: reel
scenes:
  reel: {media: t/reel, duration: 2, ending: true}
"""


@pytest.mark.asyncio
async def test_the_answer_maps_rtp_timestamps_to_due_times_on_the_room_clock(tmp_path: Path):
    """A frame's RTP timestamp, through the answer's film clock, says when it was due:
    just before it arrived (aiortc's own random origin would put it hours away)."""
    media = tmp_path / "media"
    make_film(media, {"t/reel": "red"}, seconds=2.0)
    async with running(settings_for(tmp_path, media_dir=media)) as live:
        story_id = await live.story(STORY)
        room = (await live.http.post("/api/rooms", json={"story_id": story_id})).json()
        code = room["code"]
        seat = await join_room(live.url, code, "Ada", http=live.http)
        clock = live.services.rooms.get(code).clock  # type: ignore[union-attr]
        lateness: list[float] = []
        got = asyncio.Event()
        film: dict[str, float] = {}
        pc = RTCPeerConnection()
        video = pc.addTransceiver("video", direction="recvonly")
        video.setCodecPreferences(
            [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType == "video/H264"]
        )
        # aiortc rebases decoded frames' pts to 0, so the wire timestamps are read as the
        # packets arrive (what a browser's requestVideoFrameCallback reports).
        handle = video.receiver._handle_rtp_packet

        async def arrived(packet: RtpPacket, arrival_time_ms: int) -> None:
            if "film_epoch" in film:
                ticks = (packet.timestamp - int(film["rtp_origin"])) % 2**32
                lateness.append(clock.now() - (film["film_epoch"] + ticks / film["clock_rate"]))
                if len(lateness) >= 30:
                    got.set()
            await handle(packet, arrival_time_ms)

        video.receiver._handle_rtp_packet = arrived  # type: ignore[method-assign]

        async with PhoneClient(live.url, code, room["host_token"], "host") as host:
            await pc.setLocalDescription(await pc.createOffer())
            answer = await live.http.post(
                f"/api/rooms/{code}/webrtc",
                json={"type": "offer", "sdp": pc.localDescription.sdp},
                headers={"Authorization": f"Bearer {seat.token}"},
            )
            body = answer.json()
            assert body["film"]["clock_rate"] == 90_000
            assert body["film"]["film_epoch"] is None  # not started yet
            await pc.setRemoteDescription(RTCSessionDescription(body["sdp"], "answer"))
            await host.host("start")
            polled = await live.http.get(
                f"/api/rooms/{code}/webrtc/film", headers={"Authorization": f"Bearer {seat.token}"}
            )
            epoch = polled.json()["film_epoch"]
            assert epoch is not None
            film.update(body["film"], film_epoch=epoch)
            async with asyncio.timeout(10):
                await got.wait()
        await pc.close()
    # Arrived after it was due (it is sent when due), and not long after.
    assert all(0 <= late < 0.5 for late in lateness), lateness
