"""The film in real Chromium: a phone and a screen play it over WebRTC and report playout.

The room's story names tiny test clips (`tests/mobile_bridge/film/clips.py`) in a tmp
media dir; the server streams them as H.264 passthrough to the pages on 127.0.0.1. A
phone in a `phones-play` room plays the film above its vote card, still votes and sees
the decision; a screen plays it behind the tally; both report playout offsets, which
reach the metrics and the host's report. A phone in a `big-screen` room gets no film.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Page, expect

from tests.mobile_bridge.film.clips import make_clip
from tests.server.conftest import LiveServer, running, settings_for
from tests.web import support
from tests.web.conftest import BROWSER_STORY, SCREEN, TIMEOUT_MS, Pages
from tests.web.test_phone import hosting, join, option, report

WAIT: dict[str, Any] = {"timeout": TIMEOUT_MS}
CLIPS = {"quick/door": "red", "quick/hall": "green", "quick/end": "blue"}
# The door scene lasts as long as its clip, so the picture moves all through the test.
FILM_STORY = BROWSER_STORY.replace("duration: 30", "duration: 12").replace(
    "  door:\n    media: quick/door\n",
    '  door:\n    media: quick/door\n    variants:\n      - {when: "1 == 1", music_gain_db: 6}\n',
    1,
)  # the door plays its louder cut: +6 dB of music over the page's base volume


@pytest_asyncio.fixture
async def film_server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    """A live server whose media dir holds the story's clips (360p for phones, 720p).

    Video only: `make_clip` muxes a clip's audio after all of its video, and the film's
    reader stalls on such a clip once it is longer than two GOPs (ingest interleaves).
    """
    media = tmp_path / "media"
    for clip, colour in CLIPS.items():
        make_clip(media / clip / "360p.ts", colour, seconds=12.0, audio=False)
        shutil.copy(media / clip / "360p.ts", media / clip / "720p.ts")
    async with running(settings_for(tmp_path, media_dir=media)) as live:
        yield live


async def frames_presented(page: Page) -> int:
    """Counts frames the page presents from now on (requestVideoFrameCallback)."""
    return int(
        await page.evaluate(
            """() => {
              const video = document.querySelector('#film');
              if (!window.presented) {
                window.presented = 0;
                const count = () => {
                  window.presented += 1;
                  video.requestVideoFrameCallback(count);
                };
                video.requestVideoFrameCallback(count);
              }
              return window.presented;
            }"""
        )
    )


async def inbound_video(page: Page) -> dict[str, Any]:
    """The page's inbound-rtp video stats, with the codec's mimeType, from `getStats()`."""
    return dict(
        await page.evaluate(
            """async () => {
              const pcs = window.kinoroomPeers || [];
              for (const pc of pcs) {
                const stats = await pc.getStats();
                for (const s of stats.values()) {
                  if (s.type === 'inbound-rtp' && s.kind === 'video') {
                    const codec = s.codecId ? stats.get(s.codecId) : null;
                    return {framesDecoded: s.framesDecoded || 0,
                            mimeType: codec ? codec.mimeType : null};
                  }
                }
              }
              return {framesDecoded: 0, mimeType: null};
            }"""
        )
    )


TRACK_PEERS = """
  window.kinoroomPeers = [];
  const Original = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Original {
    constructor(...args) { super(...args); window.kinoroomPeers.push(this); }
  };
"""


async def plays(page: Page) -> None:
    """The film moves: currentTime grows, frames are presented, H.264 frames decoded."""
    video = page.locator("#film")
    await expect(video).to_be_visible(**WAIT)
    await page.wait_for_function(
        "document.querySelector('#film').currentTime > 1", timeout=TIMEOUT_MS
    )
    before = await frames_presented(page)
    first = await inbound_video(page)
    assert first["mimeType"] == "video/H264", first
    assert first["framesDecoded"] > 0
    await page.wait_for_function(f"window.presented > {before + 10}", timeout=TIMEOUT_MS)
    later = await inbound_video(page)
    assert later["framesDecoded"] > first["framesDecoded"]


async def wait_for(condition: Any, what: str) -> None:
    async with asyncio.timeout(TIMEOUT_MS / 1000 * 2):
        while not condition():
            await asyncio.sleep(0.1)  # polling the server's state; no event to await


@pytest.mark.asyncio
async def test_phone_and_screen_play_the_film_vote_and_report_playout(
    film_server: LiveServer, pages: Pages
) -> None:
    server = film_server
    room = await support.make_room(server, story=FILM_STORY)
    code = room["code"]
    async with hosting(server, room) as host:
        screen = await pages.open(f"{server.url}/screen/{code}", name="screen", viewport=SCREEN)
        await screen.add_init_script(TRACK_PEERS)
        await screen.reload()
        phone = await pages.open(f"{server.url}/phone", name="phone")
        await phone.add_init_script(TRACK_PEERS)
        await phone.reload()
        await phone.fill("#code", code)
        await phone.fill("#nickname", "Ada")
        await phone.click("#join")
        await expect(phone.locator("#room-title")).to_have_text("Browser reel", **WAIT)

        await host.host("start")
        await plays(phone)
        await plays(screen)
        # The join tap was a gesture: the phone plays with sound; the screen waits for one.
        assert await phone.evaluate("document.querySelector('#film').muted") is False
        # The door's variant asks for +6 dB: the base volume (-6 dB) doubles to full.
        volume = await phone.evaluate("document.querySelector('#film').volume")
        assert 0.99 <= volume <= 1.0, volume
        await expect(screen.locator("#sound")).to_be_visible()
        await screen.click("#sound")
        await expect(screen.locator("#sound")).to_be_hidden()
        await pages.shot(phone, "phone-playing")

        await expect(phone.locator("#vote-prompt")).to_have_text("Open the door?", **WAIT)
        await option(phone, "knock").click()
        await expect(phone.locator("#vote-status")).to_have_text("Vote received ✓", **WAIT)
        await pages.shot(phone, "phone-voted-over-film")
        await pages.shot(screen, "screen-playing-with-tally")
        await expect(phone.locator("#decision-label")).to_have_text("Knock twice", **WAIT)
        await expect(phone.locator("#film")).to_be_visible()
        await pages.shot(phone, "phone-decision")

        book = server.services.playout
        await wait_for(
            lambda: (s := book.summary(code, 0.0)) is not None and "phone" in s and "screen" in s,
            "playout reports from both pages",
        )
    summary = (await report(server, room))["playout"]
    for role in ("phone", "screen"):
        # Shown after due, by less than a second on loopback (an origin off by aiortc's
        # random one would be hours out).
        assert 0 < summary[role]["p50_ms"] < 1000, summary
    metrics = (await server.http.get("/metrics")).text
    assert 'kinoroom_playout_offset_seconds_count{role="phone"}' in metrics
    assert 'kinoroom_playout_offset_seconds_count{role="screen"}' in metrics


@pytest.mark.asyncio
async def test_a_big_screen_phone_gets_no_film_and_still_votes(
    film_server: LiveServer, pages: Pages
) -> None:
    server = film_server
    room = await support.make_room(server, story=BROWSER_STORY, mode="big-screen")
    async with hosting(server, room) as host:
        phone = await join(pages, server, room["code"])
        await host.host("start")
        await expect(phone.locator("#vote-prompt")).to_have_text("Open the door?", **WAIT)
        await option(phone, "open").click()
        await expect(phone.locator("#decision-label")).to_have_text("Open it", **WAIT)
        await expect(phone.locator("#film")).to_be_hidden()
        await pages.shot(phone, "controller-only")
    assert len(server.services.peers or ()) == 0
