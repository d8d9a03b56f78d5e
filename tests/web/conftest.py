"""Real Chromium (Debian's /usr/bin/chromium) driven by Playwright against a live server.

Every page a test opens fails the test on any console error or uncaught exception, and
`shot()` writes screenshots to ``test-artifacts/<test name>/`` (``KINOROOM_ARTIFACTS``
moves it). The only console lines a test may allow are the browser's own "Failed to load
resource" lines for HTTP errors the test provokes on purpose (a wrong room code): those
are the browser's network log, not the page's.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright

from tests.server.conftest import LiveServer, running, settings_for

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
PHONE = {"width": 360, "height": 640}
SCREEN = {"width": 1920, "height": 1080}
DESKTOP = {"width": 1280, "height": 900}
ARTIFACTS = Path(os.environ.get("KINOROOM_ARTIFACTS", "test-artifacts"))
TIMEOUT_MS = 10_000 * float(os.environ.get("KINOROOM_TEST_TIMEOUT_FACTOR", "1"))

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@dataclass
class Pages:
    """Opens pages that report their console errors; call `check()` at the end."""

    browser: Browser
    folder: Path
    allowed: list[re.Pattern[str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    opened: list[Page] = field(default_factory=list)
    _shots: int = 0

    async def open(self, url: str, *, name: str, viewport: dict[str, int] = PHONE) -> Page:
        context = await self.browser.new_context(
            viewport=viewport,  # type: ignore[arg-type]
            is_mobile=viewport is PHONE,
            has_touch=viewport is PHONE,
            device_scale_factor=1,
            permissions=["camera"],
        )
        context.set_default_timeout(TIMEOUT_MS)
        page = await context.new_page()
        page.on("console", lambda message: self._console(name, message))
        page.on("pageerror", lambda error: self.errors.append(f"{name}: uncaught {error}"))
        self.opened.append(page)
        await page.goto(url)
        return page

    def allow_http_error(self, path_pattern: str) -> None:
        """The browser may log a failed load of a URL matching this regex (a 4xx on purpose)."""
        self.allowed.append(re.compile(path_pattern))

    def _console(self, name: str, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = message.location.get("url", "")
        if message.text.startswith("Failed to load resource") and any(
            p.search(url) for p in self.allowed
        ):
            return
        self.errors.append(f"{name}: {message.text} ({url})")

    async def shot(self, page: Page, step: str) -> Path:
        self._shots += 1
        path = self.folder / f"{self._shots:02d}-{step}.png"
        await page.screenshot(path=str(path), full_page=True)
        return path

    async def close(self) -> None:
        """Close every page opened so far. A test that stops a server itself does this
        first: a page left open tries to reconnect, and Chromium logs each refused
        WebSocket connection as a console error."""
        for page in self.opened:
            await page.context.close()
        self.opened.clear()

    def check(self) -> None:
        assert not self.errors, "console errors:\n" + "\n".join(self.errors)


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest_asyncio.fixture
async def pages(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Pages]:
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    opened = Pages(browser, folder)
    yield opened
    await opened.close()
    opened.check()


# A story slow enough for a browser to act in: 3 options at the first node, windows of 6 s.
BROWSER_STORY = """
kinoroom: 1
title: Browser reel
start: door
variables: {brave: false}
scenes:
  door:
    media: quick/door
    duration: 30
    choice:
      at: 0.5
      window: 6
      prompt: Open the door?
      default: wait
      options:
        - {id: open, label: Open it, goto: hall, set: {brave: true}}
        - {id: wait, label: Wait, goto: hall}
        - {id: knock, label: Knock twice, goto: hall}
  hall:
    media: quick/hall
    duration: 30
    choice:
      at: 0.5
      window: 6
      prompt: Which way?
      default: left
      options:
        - {id: left, label: Left, goto: end}
        - {id: right, label: Right, goto: end}
  end: {media: quick/end, duration: 3, ending: true}
"""


@pytest_asyncio.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    """A live server on 127.0.0.1 (no demo room; `server.story(BROWSER_STORY)` adds one)."""
    async with running(settings_for(tmp_path)) as live:
        yield live


__all__ = ["BROWSER_STORY", "DESKTOP", "PHONE", "SCREEN", "Pages"]
