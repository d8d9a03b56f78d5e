"""A text scene in real Chromium: the bundled ink story, picked on the host page, shows
its words on the shared screen and a phone, in the story's colours, and the room votes.

The story plays no clip at all: the film is hidden and the words stand in for it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.server.conftest import LiveServer
from tests.web.conftest import DESKTOP, SCREEN, TIMEOUT_MS, Pages

WAIT: dict[str, Any] = {"timeout": TIMEOUT_MS}
# The first scene is read (about 14 s at the story's 170 words a minute) before its vote.
READ: dict[str, Any] = {"timeout": TIMEOUT_MS + 30_000}
FIRST_WORDS = "Tonight the city switches to electric light."
BACKGROUND, COLOUR = "rgb(20, 24, 33)", "rgb(243, 227, 181)"  # # background: 141821 …


async def style(page: Page, selector: str, prop: str) -> str:
    return str(await page.locator(selector).evaluate(f"e => getComputedStyle(e).{prop}"))


async def join(pages: Pages, server: LiveServer, code: str) -> Page:
    page = await pages.open(f"{server.url}/phone", name="phone")
    await page.fill("#code", code)
    await page.fill("#nickname", "Ada")
    await page.click("#join")
    await expect(page.locator("#room-title")).to_have_text("The Last Lamplighter", **WAIT)
    return page


@pytest.mark.asyncio
async def test_the_bundled_ink_story_shows_its_words_and_takes_votes(
    server: LiveServer, pages: Pages
) -> None:
    assert (await _bundled(server)).fmt == "json"  # stored at start-up, as its JSON
    host = await pages.open(f"{server.url}/host", name="host", viewport=DESKTOP)
    bundled = host.locator("#story option", has_text="The Last Lamplighter (bundled)")
    await expect(bundled).to_have_count(1)
    await host.locator("#story").select_option(label="The Last Lamplighter (bundled)")
    await host.locator("#mode").select_option("big-screen")
    await host.locator("#create").click()
    await expect(host.locator("#room-code")).to_have_text(re.compile(r"^[A-Z0-9]{4,}$"), **WAIT)
    code = await host.locator("#room-code").inner_text()

    screen = await pages.open(f"{server.url}/screen/{code}", name="screen", viewport=SCREEN)
    await expect(screen.locator("#room-code")).to_have_text(code, **WAIT)
    phone = await join(pages, server, code)
    await host.locator("#start").click()

    # -- the first text scene: words, no film, the story's colours ---------------------
    words = screen.locator("#words")
    await expect(words).to_contain_text(FIRST_WORDS, **WAIT)
    await expect(screen.locator("body")).to_have_class(re.compile(r"\btext-scene\b"))
    assert await style(screen, "body", "backgroundColor") == BACKGROUND
    assert await style(screen, "#words", "color") == COLOUR
    assert await style(screen, "#film", "visibility") == "hidden"
    await expect(screen.locator("#scene-title")).to_have_text("")
    await expect(phone.locator("#words")).to_contain_text(FIRST_WORDS, **WAIT)
    assert await style(phone, "#words", "backgroundColor") == BACKGROUND
    await pages.shot(screen, "screen-text-scene")
    await pages.shot(phone, "phone-text-scene")

    # -- read, then the vote opens over the words ---------------------------------------
    await expect(phone.locator("#vote-prompt")).to_have_text(
        "The clock on the square strikes nine.", **READ
    )
    await expect(screen.locator("#vote-prompt")).to_have_text(
        "The clock on the square strikes nine.", **WAIT
    )
    await expect(words).to_be_visible()  # the words stay, smaller, above the vote
    knock = phone.locator('#options button.option[data-option="knock-at-the-oil-seller-s"]')
    await knock.click()
    await expect(phone.locator("#vote-status")).to_have_text("Vote received ✓", **WAIT)
    await expect(screen.locator("#tally .bar.win, #tally .bar")).not_to_have_count(0)
    await pages.shot(screen, "screen-text-vote")
    await pages.shot(phone, "phone-text-vote")

    await host.locator("#skip").click()  # decide now, from the phone's vote
    await expect(screen.locator("#decision-label")).to_have_text(
        "Knock at the oil seller's door", **WAIT
    )
    await expect(words).to_contain_text("The oil seller opens in his nightshirt.", **WAIT)
    await expect(phone.locator("#words")).to_contain_text("Last night, is it?", **WAIT)
    await pages.shot(screen, "screen-next-text")


async def _bundled(server: LiveServer) -> Any:
    stories = (await server.http.get("/api/stories")).json()
    [lamp] = [s for s in stories if s["title"] == "The Last Lamplighter"]
    assert lamp["bundled"]
    return await server.services.store.story(lamp["id"])
