"""Phones on a real network, in real Chromium: a LAN-style host name (kino.test, mapped to
127.0.0.1, so the page is not a secure context by being on loopback), a browser home
that trusts exactly one CA (or none), the face video as the fake camera, and a film."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from mobile_bridge.client import PhoneClient
from tests.mobile_bridge.film.clips import make_clip
from tests.server.network.live import RESOLVER
from tests.web.affect.conftest import VENDOR, face_frames, write_y4m
from tests.web.conftest import ARTIFACTS, CHROMIUM, FLAGS, TIMEOUT_MS, Pages

WAIT: dict[str, Any] = {"timeout": TIMEOUT_MS}
# One long vote over a film long enough for the camera to start and report.
STORY = """
kinoroom: 1
title: Night network
start: door
scenes:
  door:
    media: quick/door
    duration: 40
    choice:
      at: 0.5
      window: 30
      prompt: Open the door?
      default: wait
      options:
        - {id: open, label: Open it, goto: hall}
        - {id: wait, label: Wait, goto: hall}
        - {id: knock, label: Knock twice, goto: hall}
  hall: {media: quick/hall, duration: 5, next: end}
  end: {media: quick/end, duration: 3, ending: true}
"""
CLIPS = {"quick/door": ("red", 40.0), "quick/hall": ("green", 5.0), "quick/end": ("blue", 3.0)}


@pytest.fixture(scope="module")
def face_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if missing := [n for n in ("vision_bundle.mjs", "wasm/vision_wasm_internal.wasm")
                   if not (VENDOR / n).is_file()]:  # fmt: skip
        pytest.fail(f"{VENDOR} lacks {missing}: run `make vendor` (needs npm)")
    return write_y4m(tmp_path_factory.mktemp("camera") / "astronaut.y4m", face_frames())


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The story's clips, video only (as tests/web/test_film.py makes them)."""
    media = tmp_path_factory.mktemp("media")
    for clip, (colour, seconds) in CLIPS.items():
        make_clip(media / clip / "360p.ts", colour, seconds=seconds, audio=False)
        shutil.copy(media / clip / "360p.ts", media / clip / "720p.ts")
    return media


@contextlib.asynccontextmanager
async def chromium(home: Path, *flags: str) -> AsyncIterator[Browser]:
    """Chromium resolving kino.test to 127.0.0.1, with ``home``'s NSS database."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    home.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[*FLAGS, RESOLVER, *flags],
            env={**os.environ, "HOME": str(home)},
        )
        try:
            yield browser
        finally:
            await browser.close()


def pages_for(browser: Browser, request: pytest.FixtureRequest, suffix: str = "") -> Pages:
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name + suffix)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return Pages(browser, folder)


async def make_room(base: str, **transport: Any) -> dict[str, str]:
    """A phones-play room for STORY, made over HTTP at ``base``."""
    async with httpx.AsyncClient(base_url=base, **transport) as http:
        story = await http.post("/api/stories", json={"source": STORY})
        assert story.status_code == 201, story.text
        room = await http.post("/api/rooms", json={"story_id": story.json()["id"]})
        assert room.status_code == 201, room.text
        return dict(room.json())


async def join(pages: Pages, url: str, name: str = "Ada") -> Page:
    """Open ``url`` (a join link), count its peers, join as ``name``."""
    from tests.web.test_film import TRACK_PEERS

    page = await pages.open(url, name=name)
    await page.add_init_script(TRACK_PEERS)
    await page.reload()
    await page.fill("#nickname", name)
    await page.click("#join")
    await expect(page.locator("#room-title")).to_have_text("Night network", **WAIT)
    return page


async def vote_film_and_mood(pages: Pages, phone: Page, screen: Page, host: PhoneClient) -> None:
    """The whole flow on a joined phone: the film plays over WebRTC, a vote is received,
    the camera runs on the phone and its numbers reach the screen's mood meter."""
    from tests.web.test_film import plays
    from tests.web.test_phone import option

    await host.host("start")
    await expect(phone.locator("#vote-prompt")).to_have_text("Open the door?", **WAIT)
    await option(phone, "knock").click()
    await expect(phone.locator("#vote-status")).to_have_text("Vote received ✓", **WAIT)
    await plays(phone)
    await pages.shot(phone, "film-and-vote")
    await phone.click("#camera-toggle")
    await expect(phone.locator("#camera-indicator")).to_have_text("● Camera on", **WAIT)
    path = phone.locator("#camera-path")
    await expect(path).to_contain_text("Analysed on your phone", timeout=3 * TIMEOUT_MS)
    await expect(screen.locator("#mood")).to_be_visible(timeout=3 * TIMEOUT_MS)
    await expect(screen.locator("#mood-viewers")).to_contain_text("1 camera", **WAIT)
    # The meter shows the room's numbers (relative to her own baseline, so near zero).
    for dimension in ("valence", "arousal", "engagement"):
        value = await screen.locator(f"#mood-{dimension}-value").text_content()
        assert value and re.fullmatch(r"[+−]?\d\.\d\d", value.strip()), (dimension, value)
    await pages.shot(phone, "camera-on")
    await pages.shot(screen, "mood-meter")
