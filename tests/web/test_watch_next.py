"""Watch next on the host page in real Chromium: the group is remembered, the screening
ends, three picks with reasons show, and one click creates the next room."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.server.conftest import LiveServer
from tests.web.conftest import DESKTOP, Pages


@pytest.mark.asyncio
async def test_the_host_page_shows_watch_next_when_the_screening_ends(
    server: LiveServer, pages: Pages
) -> None:
    await server.story()  # a library of four: one watched, three to pick from
    host = await pages.open(f"{server.url}/host", name="host", viewport=DESKTOP)
    await expect(host.locator("#story option")).not_to_have_count(0)
    await host.fill("#group-name", "Friday film club")
    await host.click("#create")
    await expect(host.locator("#end")).to_be_visible()
    await host.click("#end")
    await host.click("#end-confirm")
    picks = host.locator("#watch-next .pick")
    await expect(picks).to_have_count(3, timeout=20_000)
    await expect(host.locator("#watch-next .pick.explore .badge")).to_have_text(
        "Outside your habit"
    )
    for i in range(3):
        await expect(picks.nth(i).locator(".reason")).not_to_be_empty()
    await pages.shot(host, "watch-next")
    first = await picks.nth(0).get_attribute("data-story")
    watched = host.url  # already /host?room=…: wait for the next room's address, not this one
    await picks.nth(0).locator("button").click()
    await host.wait_for_url(lambda url: "/host?room=" in url and url != watched)
    await expect(host.locator("#end")).to_be_visible()
    group = await host.evaluate("JSON.parse(localStorage.getItem('kinoroom.group')).id")
    info = (await server.http.get(f"/api/groups/{group}")).json()
    assert info["name"] == "Friday film club" and info["rooms"] == 2
    assert first is not None
