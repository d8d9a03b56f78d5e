"""The host and screen pages in real Chromium: create a room, show it, run a screening.

Phones are driven from Python (`PhoneClient`), so these tests depend only on the host
and screen pages; the phone page has its own tests.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import pytest
from playwright.async_api import Page, expect

from mobile_bridge import protocol as wire
from mobile_bridge.client import PhoneClient
from mobile_bridge.join import join_room
from tests.server.conftest import LiveServer
from tests.web import support
from tests.web.conftest import BROWSER_STORY, DESKTOP, SCREEN, Pages
from tests.web.support import decode_qr

BROKEN_STORY = BROWSER_STORY.replace("goto: hall, set", "goto: nowhere, set")


async def make_room(server: LiveServer, policy: str = "plurality") -> dict[str, str]:
    return await support.make_room(server, policy, mode="big-screen")


@asynccontextmanager
async def phones(server: LiveServer, code: str, *names: str) -> AsyncIterator[list[PhoneClient]]:
    async with AsyncExitStack() as stack:
        clients = []
        for name in names:
            seat = await join_room(server.url, code, name)
            client = PhoneClient(server.url, code, seat.token, timeout_s=15)
            clients.append(await stack.enter_async_context(client))
        yield clients


async def settled(page: Page, selector: str) -> None:
    """Wait for the element's CSS animations to finish (for a steady screenshot). One the
    page cancels (the view re-rendered while a slow machine waited) is settled too: its
    ``finished`` rejects with an AbortError."""
    await page.locator(selector).evaluate(
        "e => Promise.all(e.getAnimations().map(a => a.finished.catch(() => null)))"
        ".then(() => true)"
    )


@pytest.mark.asyncio
async def test_host_creates_a_room_from_an_upload_and_the_screen_shows_it(
    server: LiveServer, pages: Pages
) -> None:
    pages.allow_http_error(r"/api/stories$")  # the broken upload's 422, on purpose
    host = await pages.open(f"{server.url}/host", name="host", viewport=DESKTOP)
    await expect(host.locator("#story option")).not_to_have_count(0)
    await expect(host.locator("#policy option[value=plurality]")).to_have_count(1)
    await expect(host.locator("#policy-summary")).not_to_be_empty()
    await pages.shot(host, "create")

    await host.locator("#upload-area summary").click()
    await host.locator("#story-source").fill(BROKEN_STORY)
    await host.locator("#upload").click()
    errors = host.locator("#upload-errors li")
    await expect(errors.first).to_contain_text(re.compile(r"^\d+:\d+ unknown-target .*nowhere"))
    await pages.shot(host, "upload-diagnostics")

    await host.locator("#story-source").fill(BROWSER_STORY)
    await host.locator("#upload").click()
    await expect(host.locator("#upload-errors")).to_be_hidden()
    await expect(host.locator("#story option:checked")).to_have_text("Browser reel")
    await host.locator("#policy").select_option("plurality")
    await host.locator("#mode").select_option("big-screen")
    await host.locator("#create").click()

    code_box = host.locator("#room-code")
    await expect(code_box).to_have_text(re.compile(r"^[A-Z0-9]{4,}$"))
    code = await code_box.inner_text()
    join_url = await host.locator("#join-link").inner_text()
    assert join_url == f"{server.url}/j/{code}"
    assert f"kinoroom.host.{code}" in await host.evaluate("Object.keys(localStorage)")
    await expect(host.locator("#start")).to_be_enabled()
    await expect(host.locator("#roster tbody tr td.role", has_text="host")).to_have_count(1)
    await pages.shot(host, "room")

    studio_href = await host.locator("#studio-link").get_attribute("href")
    assert studio_href == f"/studio?room={code}"
    studio = await host.context.new_page()  # the same browser: it keeps the host's key
    await studio.goto(f"{server.url}{studio_href}")
    await expect(studio.locator("body")).to_contain_text("Browser reel")
    await studio.close()

    screen_href = await host.locator("#screen-link").get_attribute("href")
    assert screen_href == f"/screen/{code}"
    screen = await pages.open(f"{server.url}{screen_href}", name="screen", viewport=SCREEN)
    await expect(screen.locator("#room-code")).to_have_text(code)
    await expect(screen.locator("#join-url")).to_contain_text(f"/j/{code}")
    await expect(screen.locator("#presence-count")).to_have_text("0 phones joined")
    await expect(screen.locator("#qr")).to_have_js_property("complete", True)
    assert await decode_qr(screen) == join_url
    box = await screen.locator("#qr").bounding_box()
    assert box is not None and box["width"] >= 400, box
    await pages.shot(screen, "screen-lobby")

    # The host sees the screen's seat; then starts and ends with the inline confirm.
    await expect(host.locator("#roster tr", has_text="screen").locator(".state")).to_have_text(
        "connected"
    )
    await host.locator("#start").click()
    await expect(screen.locator("#scene-title")).to_have_text("Door")
    await expect(screen.locator("#room-code")).to_be_visible()  # latecomers can still join
    await host.locator("#end").click()
    await expect(host.locator("#end-confirm")).to_have_text("Really end?")
    await pages.shot(host, "confirm-end")
    await host.locator("#end-confirm").click()
    await expect(screen.locator("text=The end")).to_be_visible()
    await expect(host.locator("#report #path")).to_contain_text("door")
    await expect(host.locator("#report-link")).to_have_attribute("href", f"/rooms/{code}/report")
    await pages.shot(screen, "screen-ended")
    await pages.shot(host, "host-ended")


@pytest.mark.asyncio
async def test_screen_and_host_follow_votes_force_skip_and_end(
    server: LiveServer, pages: Pages
) -> None:
    room = await make_room(server)
    code, token = room["code"], room["host_token"]
    host = await pages.open(
        f"{server.url}/host#room={code}&token={token}", name="host", viewport=DESKTOP
    )
    await expect(host.locator("#room-code")).to_have_text(code)
    assert "token" not in host.url  # adopted: kept in storage, not in the address bar
    screen = await pages.open(f"{server.url}/screen/{code}", name="screen", viewport=SCREEN)
    await expect(screen.locator("#room-code")).to_have_text(code)

    async with phones(server, code, "Ada", "Grace", "Linus") as (ada, grace, linus):
        await expect(screen.locator("#presence-count")).to_have_text("3 phones joined")
        for name in ("Ada", "Grace", "Linus"):
            row = host.locator("#roster tbody tr", has_text=name)
            await expect(row.locator(".state")).to_have_text("connected")
        await pages.shot(host, "roster")

        await host.locator("#start").click()
        door = await ada.next_vote_open()
        await expect(screen.locator("#vote-prompt")).to_have_text("Open the door?")
        await expect(screen.locator("#countdown")).to_have_text(re.compile(r"^[1-6]$"))
        for client, option in ((ada, "open"), (grace, "open"), (linus, "knock")):
            ack = await client.vote(door.choice, option)
            assert ack.type == "vote_ack"
        bars = screen.locator("#tally .bar")
        await expect(bars).to_have_count(3)
        await expect(screen.locator("#tally [data-option=open] .score")).to_have_text("2")
        await expect(screen.locator("#tally [data-option=knock] .score")).to_have_text("1")
        await expect(screen.locator("#turnout")).to_have_text("3 of 3 phones voted")
        await expect(host.locator("#roster tr", has_text="Ada").locator(".voted")).to_have_text("✓")
        await expect(host.locator("button.force")).to_have_count(3)
        await pages.shot(screen, "screen-tally")
        await pages.shot(host, "host-vote")

        await host.locator("#skip").click()  # skipping decides the open vote by the policy
        await expect(screen.locator("#decision-label")).to_have_text("Open it")
        await expect(screen.locator("#decision-reason")).to_contain_text("skipped ahead")
        await expect(screen.locator("#tally .bar.win")).to_have_attribute("data-option", "open")
        await settled(screen, "#decision")
        await pages.shot(screen, "screen-decision")

        await expect(screen.locator("#vote-prompt")).to_have_text("Which way?")
        await expect(host.locator("button.force")).to_have_count(2)
        await host.locator("button.force[data-option=right]").click()
        await expect(screen.locator("#decision-label")).to_have_text("Right")
        await expect(screen.locator("#decision-reason")).to_have_text("The host chose Right.")
        await expect(host.locator("#host-message")).to_contain_text("force")
        await expect(host.locator("#force")).to_be_hidden()

        await host.locator("#show-tally").check()
        await expect(host.locator("#host-message")).to_contain_text("show tally")
        await host.locator("#end").click()
        await host.locator("#end-confirm").click()
        await expect(screen.locator("text=The end")).to_be_visible()
        await expect(host.locator("#report .node")).to_have_count(2)
        await pages.shot(host, "host-report")


@pytest.mark.asyncio
async def test_host_on_a_phone_refusals_big_rosters_and_resume(
    server: LiveServer, pages: Pages
) -> None:
    room = await make_room(server)
    code = room["code"]
    # Seats only, no sockets: the roster lists them as disconnected.
    joins = (
        server.http.post(f"/api/rooms/{code}/join", json={"nickname": f"p{n}"}) for n in range(205)
    )
    assert all(joined.status_code == 201 for joined in await asyncio.gather(*joins))
    host = await pages.open(
        f"{server.url}/host#room={code}&token={room['host_token']}", name="host"
    )
    rows = host.locator("#roster tbody tr[data-device]")
    await expect(rows).to_have_count(200)
    await expect(host.locator("#roster tr.more")).to_have_text("and 6 more")  # 205 + the host
    await expect(rows.first.locator(".role")).to_have_text("host")

    await host.locator("#copy-link").click()  # clipboard or, without one, a selection
    await expect(host.locator("#copy-status")).not_to_be_empty()
    await host.locator("#start").click()
    await expect(host.locator("#now-scene")).to_have_text("Scene: door")
    # A second start is refused by the screening; the page says so (the button is
    # disabled while playing, so click it the way a stale page would).
    await host.locator("#start").evaluate("b => { b.disabled = false; b.click(); }")
    await expect(host.locator("#host-message")).to_contain_text("refused")
    await pages.shot(host, "phone-host-rejected")

    # A reload resumes the room with the stored token.
    await host.goto(f"{server.url}/host?room={code}")
    await expect(host.locator("#room-code")).to_have_text(code)
    await expect(host.locator("#now-phase")).to_have_text("playing")


@pytest.mark.asyncio
async def test_screen_is_readable_and_says_when_the_code_is_wrong(
    server: LiveServer, pages: Pages
) -> None:
    room = await make_room(server)
    screen = await pages.open(f"{server.url}/screen/{room['code']}", name="screen", viewport=SCREEN)
    code = screen.locator("#room-code")
    await expect(code).to_have_text(room["code"])
    size = await code.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 96, size
    key = f"kinoroom.screen.{room['code']}"
    seat = await screen.wait_for_function("k => localStorage.getItem(k)", arg=key)
    stored = await seat.json_value()
    await screen.reload()
    await expect(code).to_have_text(room["code"])
    assert await screen.evaluate("k => localStorage.getItem(k)", key) == stored  # same seat

    pages.allow_http_error(r"/api/rooms/ZZZZZZ$")
    wrong = await pages.open(f"{server.url}/screen/ZZZZZZ", name="wrong", viewport=SCREEN)
    await expect(wrong.locator("#screen-error")).to_contain_text("No room with that code.")
    await pages.shot(wrong, "wrong-code")


@pytest.mark.asyncio
async def test_report_shows_path_reasons_plots_and_downloads(
    server: LiveServer, pages: Pages
) -> None:
    room = await make_room(server)
    code, token = room["code"], room["host_token"]
    async with (
        phones(server, code, "Ada", "Grace", "Linus") as (ada, grace, linus),
        PhoneClient(server.url, code, token, role="host", timeout_s=15) as host,
    ):
        await host.host("start")
        door = await ada.next_vote_open()
        for client, option in ((ada, "open"), (grace, "open"), (linus, "wait")):
            await client.vote(door.choice, option)
        await host.host("skip")
        hall = await ada.next_vote_open()
        await ada.vote(hall.choice, "right")
        await host.host("force", "left")
        # Waiting from before the skip: the end scene after it lasts 3 s, then the story ends.
        with_end = asyncio.create_task(host.wait_for(wire.Ended))
        await host.host("skip")  # the rest of the hall scene, on to the end scene
        await with_end

    anonymous = await pages.open(f"{server.url}/rooms/{code}/report", name="anon", viewport=DESKTOP)
    await expect(anonymous.locator("#no-token")).to_contain_text("Open it from the host page")

    report = await pages.open(
        f"{server.url}/rooms/{code}/report#token={token}", name="report", viewport=DESKTOP
    )
    await expect(report.locator(".report-title")).to_have_text("Browser reel")
    assert "token" not in report.url
    await expect(report.locator("#path .scene")).to_have_text(["door", "hall", "end"])
    nodes = report.locator(".node")
    await expect(nodes).to_have_count(2)
    door_node = nodes.nth(0)
    await expect(door_node.locator(".option")).to_have_text("Open it")
    await expect(door_node.locator(".reason")).to_contain_text("skipped ahead")
    await expect(door_node.locator("tr[data-option=open] td").first).to_have_text("2")
    await expect(door_node.locator(".node-turnout")).to_contain_text("3 of 3")
    await expect(nodes.nth(1).locator(".reason")).to_have_text("The host chose Left.")
    choices = report.locator("#plots svg.choices")
    turnout = report.locator("#plots svg.turnout")
    await expect(choices).to_have_count(2)
    await expect(choices.first.locator("rect.bar")).to_have_count(3)
    await expect(choices.locator("rect.bar.chosen")).to_have_count(2)
    await expect(choices.first.locator("text.axis-label").first).to_have_text("score")
    await expect(turnout).to_have_count(2)
    await expect(turnout.first.locator("path.line.voted")).to_have_count(1)
    await expect(turnout.first.locator("title").first).to_contain_text("Turnout")
    await pages.shot(report, "report")

    async with report.expect_download() as csv_info:
        await report.locator("#download-csv").click()
    csv_download = await csv_info.value
    assert csv_download.suggested_filename == f"kinoroom-{code}-report.csv"
    csv_text = (await csv_download.path()).read_text()
    assert "open" in csv_text and "knock" in csv_text, csv_text

    async with report.expect_download() as json_info:
        await report.locator("#download-json").click()
    json_download = await json_info.value
    assert json_download.suggested_filename == f"kinoroom-{code}-report.json"
    data = json.loads((await json_download.path()).read_text())
    assert data["room"] == code
    assert [d["option"] for d in data["decisions"]] == ["open", "left"]
