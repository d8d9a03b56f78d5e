"""The HTTP side of a live server: stories, rooms, QR codes, health and metrics."""

from __future__ import annotations

import pytest

from mobile_bridge.client import PhoneClient
from mobile_bridge.join import join_room

pytestmark = pytest.mark.asyncio


async def test_healthz_and_metrics(live):
    assert (await live.http.get("/healthz")).json() == {"status": "ok", "rooms": 0}
    room = await live.room()
    seat = await join_room(live.url, room["code"], "ada", http=live.http)
    async with PhoneClient(live.url, room["code"], seat.token) as phone:  # connects
        await phone.sync_clock(samples=2)
    metrics = (await live.http.get("/metrics")).text
    assert "kinoroom_rooms 1.0" in metrics
    assert 'kinoroom_sockets{role="phone"}' in metrics
    assert "kinoroom_commit_seconds_bucket" in metrics


async def test_story_upload_is_idempotent_and_listed(live, quick_story):
    first = await live.story(quick_story)
    assert await live.story(quick_story) == first
    stories = (await live.http.get("/api/stories")).json()
    listed = [(s["title"], s["bundled"]) for s in stories]
    assert listed == [
        ("The Night Train to Lindholm", True),
        ("The Last Lamplighter", True),  # the bundled ink story, which needs no footage
        ("Quick reel", False),
    ]
    assert (await live.http.get(f"/api/stories/{first}")).json()["title"] == "Quick reel"
    missing = await live.http.get("/api/stories/999")
    assert (missing.status_code, missing.json()["error"]) == (404, "story-not-found")


async def test_room_info_join_and_qr(live):
    room = await live.room(mode="big-screen")
    assert room["join_url"].endswith(f"/j/{room['code']}")
    assert room["ws_url"].startswith("ws://127.0.0.1:")
    info = (await live.http.get(f"/api/rooms/{room['code'].lower()}")).json()  # codes forgive case
    assert info["title"] == "Quick reel"
    assert (info["mode"], info["phase"], info["phones"]) == ("big-screen", "waiting", 0)
    joined = await live.http.post(
        f"/api/rooms/{room['code']}/join", json={"nickname": "Bo", "role": "screen"}
    )
    assert joined.status_code == 201
    assert set(joined.json()) == {"room", "device", "token", "ws_url"}
    svg = await live.http.get(f"/api/rooms/{room['code']}/qr.svg")
    assert svg.headers["content-type"] == "image/svg+xml"
    assert svg.text.lstrip().startswith("<?xml")
    png = await live.http.get(f"/api/rooms/{room['code']}/qr.png")
    assert png.content.startswith(b"\x89PNG")


async def test_explore_rooms_start_from_what_earlier_rooms_learned(live):
    store = live.services.store
    room = await live.room("explore")
    record = await store.room(room["code"])
    assert record is not None
    assert record.policy["name"] == "explore"
    assert record.policy["history"] == {}  # nothing played yet


async def test_host_report_needs_the_host_token(live):
    room = await live.room()
    url = f"/api/rooms/{room['code']}/report"
    seat = await join_room(live.url, room["code"], "ada", http=live.http)
    as_phone = await live.http.get(url, headers={"Authorization": f"Bearer {seat.token}"})
    assert (as_phone.status_code, as_phone.json()["error"]) == (403, "forbidden")
    as_host = await live.http.get(url, headers={"Authorization": f"Bearer {room['host_token']}"})
    assert as_host.json()["phase"] == "waiting"


async def test_clock_sync_against_the_server_stays_within_its_own_error_bound(live):
    room = await live.room()
    seat = await join_room(live.url, room["code"], "ada", http=live.http)
    server_clock = live.services.rooms.get(room["code"]).clock
    async with PhoneClient(live.url, room["code"], seat.token) as phone:
        clock = await phone.sync_clock(samples=16)
        # Both clocks live in this process, so the true error can be measured directly.
        error = abs(phone.room_now() - server_clock.now())
        assert error <= clock.error_bound + 0.0005  # + the time between the two reads
