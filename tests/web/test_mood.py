"""The room's mood in real Chromium: Python phones send affect numbers, the screen's mood
meter shows the robust room mood, the host's report plots it scene by scene."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import pytest
from playwright.async_api import expect

from mobile_bridge import protocol as wire
from mobile_bridge.client import PhoneClient
from mobile_bridge.join import join_room
from tests.server.conftest import LiveServer
from tests.web.conftest import DESKTOP, SCREEN, TIMEOUT_MS, Pages
from tests.web.support import make_room

# Two scenes the phones feel differently about, then the end.
STORY = """
kinoroom: 1
title: Mood reel
start: calm
scenes:
  calm: {media: quick/calm, duration: 5, next: storm}
  storm: {media: quick/storm, duration: 5, next: end}
  end: {media: quick/end, duration: 1.5, ending: true}
"""

# (valence, arousal, engagement) each phone sends in each scene; "clown" pulls faces the
# whole time and the trimmed mean drops it once five phones count.
FEELINGS = {
    "calm": [(0.5, -0.4, 0.6)] * 4 + [(-1.0, 1.0, 0.0)],
    "storm": [(-0.5, 0.7, 0.9)] * 4 + [(1.0, -1.0, 0.0)],
}


@asynccontextmanager
async def phones(server: LiveServer, code: str, n: int) -> AsyncIterator[list[PhoneClient]]:
    async with AsyncExitStack() as stack:
        clients = []
        for i in range(n):
            seat = await join_room(server.url, code, f"viewer{i}")
            client = PhoneClient(server.url, code, seat.token, timeout_s=15)
            clients.append(await stack.enter_async_context(client))
        yield clients


async def feel(clients: list[PhoneClient], host: PhoneClient, ended: asyncio.Event) -> None:
    """Every phone sends its numbers for the scene on show, twice a second, until the end."""
    while not ended.is_set():
        scene = host.state.scene if host.state is not None else None
        for client, numbers in zip(clients, FEELINGS.get(scene or "", []), strict=False):
            await client.affect(*numbers)
        with_end = asyncio.ensure_future(ended.wait())
        await asyncio.wait([with_end], timeout=0.5)  # the phones' sending cadence
        with_end.cancel()


@pytest.mark.asyncio
async def test_the_screen_shows_the_room_mood_and_the_report_plots_it(
    server: LiveServer, pages: Pages
) -> None:
    room = await make_room(server, story=STORY)
    code, token = room["code"], room["host_token"]
    screen = await pages.open(f"{server.url}/screen/{code}", name="screen", viewport=SCREEN)
    await expect(screen.locator("#room-code")).to_have_text(code)
    ended = asyncio.Event()
    async with (
        phones(server, code, 5) as clients,
        PhoneClient(server.url, code, token, role="host", timeout_s=15) as host,
    ):
        await host.host("start")
        await expect(screen.locator("#mood")).to_be_hidden()  # no camera yet
        sending = asyncio.create_task(feel(clients, host, ended))
        try:
            meter = screen.locator("#mood")
            await expect(meter).to_be_visible()
            await expect(screen.locator("#mood-viewers")).to_contain_text("5 cameras")
            await expect(screen.locator("#mood-viewers")).to_contain_text("100% of phones")
            # The trimmed mean: the clown's −1 is dropped, the calm room reads +0.50.
            await expect(screen.locator("#mood-valence-value")).to_have_text("+0.50")
            await expect(screen.locator("#mood-arousal-value")).to_have_text("−0.40")
            await expect(screen.locator("#mood-engagement-value")).to_have_text("0.60")
            await pages.shot(screen, "screen-calm")
            # The storm scene starts 5 s after the start: wait for it past expect's 5 s.
            storm = screen.locator("#mood-arousal-value")
            await expect(storm).to_have_text("+0.70", timeout=TIMEOUT_MS + 5_000)
            await expect(screen.locator("#mood-valence-value")).to_have_text("−0.50")
            assert await screen.locator("#mood-arousal").evaluate("m => m.value") == 0.7
            box = await meter.bounding_box()
            assert box is not None and box["width"] > 400  # readable across a room at 1080p
            await pages.shot(screen, "screen-storm")
            await host.wait_for(wire.Ended, timeout=20)
        finally:
            ended.set()
            await sending

    report = await pages.open(
        f"{server.url}/rooms/{code}/report#token={token}", name="report", viewport=DESKTOP
    )
    chart = report.locator("#report-mood svg.mood")
    await expect(chart).to_have_count(1)
    await expect(chart.locator("path.line")).to_have_count(3)
    await expect(chart.locator("desc")).to_contain_text("(5 cameras)")
    for scene, expected in (("calm", (0.5, -0.4, 0.6)), ("storm", (-0.5, 0.7, 0.9))):
        dots = chart.locator(f"circle.dot[data-scene={scene}]")
        await expect(dots).to_have_count(3)
        # A sample sent as the scene changed may count for the next one: ± 0.1.
        for dimension, value in zip(("valence", "arousal", "engagement"), expected, strict=True):
            dot = chart.locator(f"circle.dot.{dimension}[data-scene={scene}] title")
            title = await dot.text_content()
            assert title is not None and title.startswith(f"{scene}: {dimension} ")
            assert abs(float(title.rsplit(" ", 1)[1]) - value) <= 0.1, title
    # calm's valence dot sits above the zero line, storm's below
    zero = await chart.locator("line.grid.zero").get_attribute("y1")
    calm = await chart.locator("circle.dot.valence[data-scene=calm]").get_attribute("cy")
    storm = await chart.locator("circle.dot.valence[data-scene=storm]").get_attribute("cy")
    assert float(calm or "nan") < float(zero or "nan") < float(storm or "nan")
    await report.locator("#report-mood").scroll_into_view_if_needed()
    await pages.shot(report, "report-mood")
