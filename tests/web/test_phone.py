"""The phone page in real Chromium against a live server: join, vote, reconnect, camera.

The host is the Python client (`PhoneClient` with the host token) driving the room over
its own socket; the page is what a viewer's phone shows at 360×640. Every page fails
its test on a console error, and each step leaves a screenshot in test-artifacts/.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, WebSocketRoute, expect

from mobile_bridge.client import PhoneClient
from tests.server.conftest import LiveServer, running, settings_for
from tests.web import support
from tests.web.conftest import BROWSER_STORY, PHONE, TIMEOUT_MS, Pages

WAIT: dict[str, Any] = {"timeout": TIMEOUT_MS}
TIMEOUT_S = TIMEOUT_MS / 1000
# The same reel with a window that outlasts anything a test does in it; the host's
# `skip` (decide from the ballots so far) or `force` closes it when the test is ready.
LONG_STORY = BROWSER_STORY.replace("window: 6", "window: 25")
RECEIVED = "Vote received ✓"


async def make_room(
    server: LiveServer, policy: str = "plurality", story: str = LONG_STORY
) -> dict[str, str]:
    return await support.make_room(server, policy, story)


@contextlib.asynccontextmanager
async def hosting(server: LiveServer, room: dict[str, str]) -> AsyncIterator[PhoneClient]:
    host = PhoneClient(server.url, room["code"], room["host_token"], "host", timeout_s=TIMEOUT_S)
    await host.connect()
    try:
        yield host
    finally:
        await host.close()


async def report(server: LiveServer, room: dict[str, str]) -> dict[str, Any]:
    auth = {"Authorization": f"Bearer {room['host_token']}"}
    response = await server.http.get(f"/api/rooms/{room['code']}/report", headers=auth)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def join(pages: Pages, server: LiveServer, code: str, name: str = "Ada") -> Page:
    """Open /phone, type the code (lower case, as people do) and a name, join."""
    page = await pages.open(f"{server.url}/phone", name=name)
    await pages.shot(page, "join-form")
    await page.fill("#code", code.lower())
    await page.fill("#nickname", name)
    await page.click("#join")
    await expect(page.locator("#room-title")).to_have_text("Browser reel", **WAIT)
    await expect(page.locator("#connection")).to_be_hidden(**WAIT)
    return page


def option(page: Page, option_id: str) -> Any:
    return page.locator(f'#options button.option[data-option="{option_id}"]')


async def seat(page: Page, code: str) -> dict[str, str]:
    stored = await page.evaluate("(key) => localStorage.getItem(key)", f"kinoroom.phone.{code}")
    assert stored, "no seat stored"
    return dict(json.loads(stored))


@pytest.mark.asyncio
async def test_join_by_code_vote_with_a_tap_and_see_the_decision(
    server: LiveServer, pages: Pages
) -> None:
    room = await make_room(server, story=BROWSER_STORY)
    async with hosting(server, room) as host:
        page = await join(pages, server, room["code"])
        await expect(page.locator("#scene-title")).to_have_text("Waiting for the host to start")
        await expect(page.locator("#presence")).to_have_text("1 phone", **WAIT)
        await pages.shot(page, "waiting")

        await host.host("start")
        await expect(page.locator("#scene-title")).to_have_text("Door", **WAIT)
        await expect(page.locator("#vote-prompt")).to_have_text("Open the door?", **WAIT)
        await expect(page.locator("#options button.option")).to_have_count(3)
        await expect(page.locator("#countdown")).to_have_text(re.compile(r"^[1-6]$"))
        await pages.shot(page, "vote-open")

        await option(page, "knock").click()
        await expect(page.locator("#vote-status")).to_have_text(RECEIVED, **WAIT)
        await expect(page.locator("#vote-status")).to_have_attribute("data-state", "acked")
        await expect(option(page, "knock")).to_have_attribute("aria-pressed", "true")
        await expect(option(page, "open")).to_have_attribute("aria-pressed", "false")
        await pages.shot(page, "voted")

        # The window closes on its own: the page shows what the room chose and why.
        await expect(page.locator("#decision-label")).to_have_text("Knock twice", **WAIT)
        await expect(page.locator("#decision-reason")).to_contain_text("Plurality")
        await expect(page.locator("#vote")).to_be_hidden()
        await pages.shot(page, "decision")


@pytest.mark.asyncio
async def test_qr_link_prefills_the_code_and_a_borda_ranking_reaches_the_server(
    server: LiveServer, pages: Pages
) -> None:
    room = await make_room(server, policy="borda", story=BROWSER_STORY)
    code = room["code"]
    async with hosting(server, room) as host:
        page = await pages.open(f"{server.url}/j/{code}", name="qr")
        await expect(page.locator("#code")).to_have_value(code)
        await expect(page.locator("#nickname")).to_be_focused()
        await pages.shot(page, "prefilled")
        await page.fill("#nickname", "Bo")
        await page.click("#join")
        await host.host("start")
        await expect(page.locator("#vote")).to_be_visible(**WAIT)
        await expect(page.locator("#send-vote")).to_be_disabled()

        for option_id in ("knock", "open", "wait"):
            await option(page, option_id).click()
        await option(page, "open").click()  # tapping a ranked option again removes it
        await expect(option(page, "wait").locator(".rank")).to_have_text("2")
        await expect(option(page, "open").locator(".rank")).to_have_text("")
        await option(page, "open").click()
        ranks = [
            await option(page, o).locator(".rank").inner_text() for o in ("knock", "wait", "open")
        ]
        assert ranks == ["1", "2", "3"]
        await pages.shot(page, "ranked")

        await page.click("#send-vote")
        await expect(page.locator("#vote-status")).to_have_text(RECEIVED, **WAIT)
        await pages.shot(page, "sent")
        await expect(page.locator("#decision-label")).to_have_text("Knock twice", **WAIT)
        await expect(page.locator("#decision-reason")).to_contain_text("Borda")
        await pages.shot(page, "decision")

    # Borda over 3 options: 2 points for first place, 1 for second, none for third.
    decided = (await report(server, room))["decisions"][0]
    assert decided["tally"] == {"knock": 2.0, "wait": 1.0, "open": 0.0}


@pytest.mark.asyncio
async def test_approval_sends_every_option_picked(server: LiveServer, pages: Pages) -> None:
    room = await make_room(server, policy="approval")
    async with hosting(server, room) as host:
        page = await join(pages, server, room["code"])
        await host.host("show_tally", show=True)
        await host.host("start")
        await expect(page.locator("#vote")).to_be_visible(**WAIT)
        await option(page, "open").click()
        await option(page, "knock").click()
        await option(page, "wait").click()
        await option(page, "wait").click()  # toggled off again
        for option_id, pressed in (("open", "true"), ("knock", "true"), ("wait", "false")):
            await expect(option(page, option_id)).to_have_attribute("aria-pressed", pressed)
        await pages.shot(page, "approved")
        await page.click("#send-vote")
        await expect(page.locator("#vote-status")).to_have_text(RECEIVED, **WAIT)
        # The host shows live tallies to phones: one bar per option, the approved lead.
        await expect(page.locator("#tally .bar")).to_have_count(3, **WAIT)
        await expect(page.locator("#tally .bar.win")).to_have_count(2, **WAIT)
        await pages.shot(page, "sent-with-tally")
        await host.host("skip")  # decide now, from the ballots so far
    decided = (await report(server, room))["decisions"][0]
    assert decided["tally"] == {"open": 1.0, "knock": 1.0, "wait": 0.0}


@pytest.mark.asyncio
async def test_reload_mid_vote_keeps_the_seat_and_shows_the_acked_vote(
    server: LiveServer, pages: Pages
) -> None:
    room = await make_room(server)
    code = room["code"]
    async with hosting(server, room) as host:
        page = await join(pages, server, code)
        await host.host("start")
        await expect(page.locator("#vote")).to_be_visible(**WAIT)
        await option(page, "wait").click()
        await expect(page.locator("#vote-status")).to_have_text(RECEIVED, **WAIT)
        before = await seat(page, code)
        await pages.shot(page, "voted")

        await page.reload()
        await expect(page.locator("#vote")).to_be_visible(**WAIT)
        await expect(option(page, "wait")).to_have_attribute("aria-pressed", "true")
        await expect(page.locator("#vote-status")).to_have_text(RECEIVED)
        await expect(page.locator("#vote-status")).to_have_attribute("data-state", "acked")
        assert page.url.endswith(f"/j/{code}")
        # The countdown runs on the room clock: it agrees with the host's, to the second.
        assert host.open_vote is not None
        shown = int(await page.locator("#countdown").inner_text())
        left = host.open_vote.closes_at - host.room_now()
        assert left - 2 <= shown <= left + 2
        assert (await seat(page, code))["device"] == before["device"]
        await pages.shot(page, "reloaded")

        # A second vote after the reload still replaces the first (its seq kept growing).
        await option(page, "open").click()
        await expect(page.locator("#vote-status")).to_have_text(RECEIVED, **WAIT)
        await host.host("skip")
        await expect(page.locator("#decision-label")).to_have_text("Open it", **WAIT)
        await pages.shot(page, "decision")
    decided = (await report(server, room))["decisions"][0]
    assert decided["turnout"] == {"voted": 1, "present": 1}  # one seat, not two
    assert decided["tally"]["open"] == 1.0


@pytest.mark.asyncio
async def test_a_wrong_code_and_an_ended_room_are_explained(
    server: LiveServer, pages: Pages
) -> None:
    pages.allow_http_error(r"/api/rooms/.*/join")
    page = await pages.open(f"{server.url}/phone", name="wrong")
    await page.click("#join")
    await expect(page.locator("#error")).to_contain_text("Type the room code first.")
    await page.fill("#code", "zz-zz-zz")
    await page.fill("#nickname", "Ada")
    await page.click("#join")
    await expect(page.locator("#error")).to_contain_text("No room with that code.", **WAIT)
    await expect(page.locator("#error")).to_contain_text("Check the code on the big screen")
    await expect(page.locator("#code")).to_have_value("ZZZZZZ")
    await pages.shot(page, "wrong-code")

    # A seat this phone remembers but the room does not honour sends it back to the form.
    room = await make_room(server)
    code = room["code"]
    forged = json.dumps({"device": "d-0", "token": "not-a-token", "nickname": "Ada"})
    await page.evaluate(
        "([k, v]) => localStorage.setItem(k, v)", [f"kinoroom.phone.{code}", forged]
    )
    await page.goto(f"{server.url}/j/{code}")
    await expect(page.locator("#error")).to_contain_text("no longer valid", **WAIT)
    await expect(page.locator("#code")).to_have_value(code)
    assert await page.evaluate("(k) => localStorage.getItem(k)", f"kinoroom.phone.{code}") is None
    await pages.shot(page, "stale-seat")

    async with hosting(server, room) as host:
        phone = await join(pages, server, code)
        await host.host("start")
        await host.host("end")
        ended = phone.get_by_text("The screening has ended.")
        await expect(ended).to_be_visible(**WAIT)
        await expect(phone.get_by_text("Thanks for watching!")).to_be_visible()
        await pages.shot(phone, "ended-in-room")

    # Someone scanning the code after the end is told so, whether the server refuses the
    # join (410 room-ended) or seats them in a finished room.
    late = await pages.open(f"{server.url}/j/{room['code']}", name="late")
    await late.fill("#nickname", "Cy")
    await late.click("#join")
    told = late.get_by_text(re.compile("screening has ended", re.I)).filter(visible=True)
    await expect(told).to_have_count(1, **WAIT)
    await pages.shot(late, "ended-late-join")


@pytest.mark.asyncio
async def test_a_vote_that_arrives_after_the_close_is_called_too_late(
    server: LiveServer, pages: Pages
) -> None:
    room = await make_room(server)
    page = await pages.open(f"{server.url}/phone", name="late")
    # A slow downlink: while `held` is on, the room's broadcasts to this page wait in the
    # network, so the page still shows the vote the server has already closed. Votes and
    # their answers pass as they are.
    held: list[str] | None = None
    routes: list[WebSocketRoute] = []

    def route(ws: WebSocketRoute) -> None:
        routes.append(ws)
        upstream = ws.connect_to_server()

        def down(message: str | bytes) -> None:
            kind = json.loads(message).get("type")
            if held is not None and kind not in ("vote_ack", "vote_rejected", "pong"):
                held.append(str(message))
            else:
                ws.send(message)

        upstream.on_message(down)
        ws.on_message(upstream.send)

    await page.route_web_socket(re.compile(r"/ws/rooms/"), route)
    await page.fill("#code", room["code"])
    await page.fill("#nickname", "Ada")
    await page.click("#join")
    async with hosting(server, room) as host:
        await host.host("start")
        await expect(page.locator("#vote")).to_be_visible(**WAIT)
        held = []
        await host.host("force", "wait")  # the decision reaches the host before its ack
        assert host.last_decision is not None
        assert host.last_decision.option == "wait"
        await option(page, "open").click()
        await expect(page.locator("#vote-status")).to_have_text(
            "Too late: the vote had closed. Your vote counts at the next choice.", **WAIT
        )
        await expect(page.locator("#vote-status")).to_have_attribute("data-state", "rejected")
        await pages.shot(page, "too-late")
        backlog, held = held, None
        for message in backlog:  # the delayed broadcasts arrive after all, in order
            routes[-1].send(message)
        await expect(page.locator("#decision-label")).to_have_text("Wait", **WAIT)
        await pages.shot(page, "decision")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.asyncio
async def test_the_page_reconnects_after_a_server_restart_and_sends_the_vote(
    tmp_path: Path, pages: Pages
) -> None:
    settings = settings_for(tmp_path, port=free_port())
    async with running(settings) as server:
        room = await make_room(server)
        page = await join(pages, server, room["code"])
        async with hosting(server, room) as host:
            await host.host("start")
        await expect(page.locator("#vote")).to_be_visible(**WAIT)
        device = (await seat(page, room["code"]))["device"]
        await pages.shot(page, "before-restart")
    # Chromium logs each refused WebSocket connection itself while the server is down.
    refused = re.compile(r"WebSocket connection to 'ws://127\.0\.0\.1:\d+/ws/rooms/\w+' failed")
    try:
        # The server is down: the page says so and keeps trying; a tap now waits for it.
        await expect(page.locator("#connection")).to_contain_text("Reconnecting…", **WAIT)
        await option(page, "knock").click()
        await expect(page.locator("#vote-status")).to_have_text("Sending…")
        await pages.shot(page, "server-down")

        async with running(settings) as server:
            await expect(page.locator("#connection")).to_be_hidden(**WAIT)
            await expect(page.locator("#vote-status")).to_have_text(RECEIVED, **WAIT)
            await pages.shot(page, "back")
            async with hosting(server, room) as host:
                await host.host("skip")
            await expect(page.locator("#decision-label")).to_have_text("Knock twice", **WAIT)
            decided = (await report(server, room))["decisions"][0]
            assert decided["tally"]["knock"] == 1.0
            assert (await seat(page, room["code"]))["device"] == device
            await pages.close()  # before the server stops again
    finally:
        pages.errors[:] = [e for e in pages.errors if not refused.search(e)]


@pytest.mark.asyncio
async def test_camera_switch_shows_the_indicator_while_the_camera_is_on(
    server: LiveServer, pages: Pages
) -> None:
    room = await make_room(server)
    page = await join(pages, server, room["code"])
    await page.evaluate(
        """() => document.addEventListener("camera", (event) => {
            const stream = event.detail.stream;
            window.cameraTrack = stream ? stream.getVideoTracks()[0] : null;
        })"""
    )
    toggle = page.locator("#camera-toggle")
    await expect(toggle).to_have_attribute("aria-checked", "false")
    await expect(page.locator("#camera-indicator")).to_be_hidden()
    await pages.shot(page, "camera-off")

    await toggle.click()
    await expect(page.locator("#camera-indicator")).to_be_visible(**WAIT)
    await expect(page.locator("#camera-indicator")).to_have_text("● Camera on")
    await expect(toggle).to_have_attribute("aria-checked", "true")
    assert (
        await page.evaluate("() => window.cameraTrack && window.cameraTrack.readyState") == "live"
    )
    await pages.shot(page, "camera-on")

    await toggle.click()
    await expect(page.locator("#camera-indicator")).to_be_hidden()
    await expect(toggle).to_have_attribute("aria-checked", "false")
    assert await page.evaluate("() => window.cameraTrack") is None
    await pages.shot(page, "camera-off-again")

    # A phone that refuses the camera gets a friendly line and the switch stays off.
    await page.evaluate(
        """() => { navigator.mediaDevices.getUserMedia = () =>
            Promise.reject(new DOMException("Permission denied", "NotAllowedError")); }"""
    )
    await toggle.click()
    await expect(page.locator("#camera-error")).to_contain_text("camera is blocked")
    await expect(toggle).to_have_attribute("aria-checked", "false")
    await expect(page.locator("#camera-indicator")).to_be_hidden()
    await pages.shot(page, "camera-denied")


@pytest.mark.asyncio
async def test_the_vote_card_fits_a_small_phone(server: LiveServer, pages: Pages) -> None:
    room = await make_room(server, policy="borda")
    async with hosting(server, room) as host:
        page = await join(pages, server, room["code"])
        await host.host("start")
        await expect(page.locator("#vote")).to_be_visible(**WAIT)
        await option(page, "knock").click()
        await pages.shot(page, "small-phone")
        width = await page.evaluate("() => document.scrollingElement.scrollWidth")
        assert width <= PHONE["width"]
        buttons = page.locator("#options button.option")
        row = await page.locator("#options").bounding_box()
        assert row is not None
        for i in range(await buttons.count()):
            box = await buttons.nth(i).bounding_box()
            assert box is not None
            assert box["height"] >= 48
            assert box["width"] == pytest.approx(row["width"])  # full width of the card
        send = await page.locator("#send-vote").bounding_box()
        assert send is not None
        assert send["height"] >= 48
