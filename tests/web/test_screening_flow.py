"""A whole screening through the three pages at once, as people would run it.

The host page creates the room; the screen page shows its code and a QR code that
decodes to the join URL; three phones join (one through that URL), vote differently at
the three-option node, and one reloads mid-vote without losing its seat or its vote; the
screen shows the live tally and the decision with its reason; the host skips and ends;
the report shows the path and the plots. Every page fails the test on a console error;
each step leaves a screenshot in test-artifacts/test_a_whole_screening_.../.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.server.conftest import LiveServer
from tests.web.conftest import BROWSER_STORY, DESKTOP, PHONE, SCREEN, Pages
from tests.web.support import decode_qr

# Long enough for three phones to vote and one to reload; the vote then closes by itself.
FLOW_STORY = BROWSER_STORY.replace("window: 6", "window: 14", 1)
RECEIVED = "Vote received ✓"


async def join_phone(pages: Pages, url: str, name: str, code: str | None = None) -> Page:
    phone = await pages.open(url, name=name, viewport=PHONE)
    if code is not None:
        await phone.fill("#code", code)
    await phone.fill("#nickname", name)
    await phone.click("#join")
    await expect(phone.locator("#room-title")).to_have_text("Browser reel")
    return phone


async def vote(phone: Page, option: str) -> None:
    await phone.locator(f'#options button.option[data-option="{option}"]').click()
    await expect(phone.locator("#vote-status")).to_have_text(RECEIVED)


@pytest.mark.asyncio
async def test_a_whole_screening_through_host_screen_and_three_phones(
    server: LiveServer, pages: Pages
) -> None:
    story_id = await server.story(FLOW_STORY)
    host = await pages.open(f"{server.url}/host", name="host", viewport=DESKTOP)
    await host.locator("#story").select_option(str(story_id))
    await host.locator("#policy").select_option("plurality")
    await host.locator("#create").click()
    await expect(host.locator("#room-code")).to_have_text(re.compile(r"^[A-Z0-9]{6}$"))
    code = await host.locator("#room-code").inner_text()
    await pages.shot(host, "host-created")

    screen = await pages.open(f"{server.url}/screen/{code}", name="screen", viewport=SCREEN)
    await expect(screen.locator("#room-code")).to_have_text(code)
    await expect(screen.locator("#qr")).to_have_js_property("complete", True)
    join_url = await decode_qr(screen)
    assert join_url == f"{server.url}/j/{code}"
    await pages.shot(screen, "screen-lobby")

    ada = await join_phone(pages, join_url, "Ada")  # scanned the QR code
    bo = await join_phone(pages, f"{server.url}/phone", "Bo", code.lower())
    cy = await join_phone(pages, f"{server.url}/phone", "Cy", code)
    await expect(screen.locator("#presence-count")).to_have_text("3 phones joined")
    await expect(host.locator("#roster tbody tr", has_text="Cy").locator(".state")).to_have_text(
        "connected"
    )
    await pages.shot(ada, "ada-waiting")
    await pages.shot(host, "host-roster")

    await host.locator("#start").click()
    for phone in (ada, bo, cy):
        await expect(phone.locator("#vote-prompt")).to_have_text("Open the door?")
    await vote(ada, "open")
    await vote(bo, "knock")
    await vote(cy, "wait")
    await vote(cy, "open")  # a change of mind replaces the first vote
    await pages.shot(cy, "cy-voted")

    await cy.reload()  # mid-vote: same seat, the acked vote still shown
    cy_open = cy.locator('#options button.option[data-option="open"]')
    await expect(cy_open).to_have_attribute("aria-pressed", "true")
    await expect(cy.locator("#vote-status")).to_have_attribute("data-state", "acked")
    await pages.shot(cy, "cy-reloaded")

    bars = screen.locator("#tally .bar")
    await expect(bars).to_have_count(3)
    await expect(screen.locator('#tally .bar[data-option="open"] .score')).to_have_text("2")
    await expect(screen.locator('#tally .bar[data-option="knock"] .score')).to_have_text("1")
    await expect(screen.locator('#tally .bar[data-option="wait"] .score')).to_have_text("0")
    await expect(screen.locator("#countdown")).to_be_visible()
    await pages.shot(screen, "screen-tally")

    # The window closes on the room clock; the room's choice reaches every page.
    reason = re.compile(r"Plurality.*2 votes")
    await expect(screen.locator("#decision-label")).to_have_text("Open it", timeout=20_000)
    await expect(screen.locator("#decision-reason")).to_have_text(reason)
    for phone in (ada, bo, cy):
        await expect(phone.locator("#decision-label")).to_have_text("Open it")
        await expect(phone.locator("#decision-reason")).to_have_text(reason)
    await pages.shot(screen, "screen-decision")
    await pages.shot(bo, "bo-decision")

    await host.locator("#skip").click()  # on to the hall before the door scene ends
    await expect(screen.locator("#scene-title")).to_have_text("Hall")
    await expect(ada.locator("#vote-prompt")).to_have_text("Which way?")
    await pages.shot(host, "host-skipped")
    await host.locator("#end").click()
    await host.locator("#end-confirm").click()
    await expect(screen.locator("text=The end")).to_be_visible()
    await expect(ada.locator("section[data-view=ended]")).to_be_visible()

    await expect(host.locator("#report #path .scene")).to_have_text(["door", "hall"])
    await expect(host.locator("#report svg.plot.choices")).to_have_count(1)
    await expect(host.locator("#report svg.plot.turnout")).to_have_count(1)
    await expect(host.locator("#report svg.plot.choices rect.bar")).to_have_count(3)
    await pages.shot(host, "host-report")
    await pages.shot(ada, "ada-ended")
