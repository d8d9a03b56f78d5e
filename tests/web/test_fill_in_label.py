"""A generated fill-in scene in real Chromium: while its clip plays, the phone and the
screen say "AI-generated"; before and after, they do not; the host's report lists it.
The host page shows the job's progress while a worker makes it, then its outcome."""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import expect

from genmodels.backend import WorkerConfig
from genmodels.local_queue import LocalQueue
from server.settings import Settings
from tests.mobile_bridge.film.clips import make_clip
from tests.server.conftest import LiveServer, running, settings_for
from tests.server.test_fill_ins_live import FakeMontage
from tests.web import support
from tests.web.conftest import DESKTOP, SCREEN, TIMEOUT_MS, Pages
from tests.web.test_phone import hosting, join, option

WAIT: dict[str, Any] = {"timeout": TIMEOUT_MS}
STORY = """
kinoroom: 1
title: Browser reel  # the title `join` waits for
start: door
scenes:
  door:
    media: quick/door
    duration: 10
    choice:
      at: 0.5
      window: 5
      prompt: Cross the bridge?
      default: wait
      options:
        - {id: cross, label: Cross it, goto: bridge}
        - {id: wait, label: Wait, goto: end}
  bridge:
    media: quick/hall
    duration: 6
    generate: {backend: montage, prompt: A rope bridge over fog, title: The bridge}
    next: end
  end: {media: quick/end, duration: 4, ending: true}
"""


@contextlib.asynccontextmanager
async def serving_fill_ins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: FakeMontage
) -> AsyncIterator[LiveServer]:
    """A live server whose fill-in jobs ``backend`` makes (a magenta clip, at once or
    when the test releases it)."""
    media = tmp_path / "media"
    for clip, colour in {"quick/door": "red", "quick/hall": "green", "quick/end": "blue"}.items():
        make_clip(media / clip / "360p.ts", colour, seconds=10.0, audio=False)
        shutil.copy(media / clip / "360p.ts", media / clip / "720p.ts")
    backend.prepare(6.0)  # the bridge scene's length

    def open_queue(settings: Settings) -> LocalQueue:
        return LocalQueue(WorkerConfig(media_dir=media), 1, backends={"montage": backend})

    monkeypatch.setattr("server.services.open_queue", open_queue)
    async with running(settings_for(tmp_path, media_dir=media)) as live:
        yield live


@pytest_asyncio.fixture
async def fill_in_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[LiveServer]:
    backend = FakeMontage(tmp_path / "media", audio=False)
    async with serving_fill_ins(tmp_path, monkeypatch, backend) as live:
        yield live


@pytest.mark.asyncio
async def test_the_pages_label_a_generated_scene_while_it_plays(
    fill_in_server: LiveServer, pages: Pages
) -> None:
    server = fill_in_server
    room = await support.make_room(server, story=STORY)
    code = room["code"]
    async with hosting(server, room) as host:
        phone = await join(pages, server, code)
        screen = await pages.open(f"{server.url}/screen/{code}", name="screen", viewport=SCREEN)
        await host.host("start")
        await option(phone, "cross").click(**WAIT)
        for page in (phone, screen):
            await expect(page.locator("#ai-label")).to_be_hidden(**WAIT)  # the door is shot
        for page in (phone, screen):
            await expect(page.locator("#ai-label")).to_be_visible(timeout=20_000)
            await expect(page.locator("#ai-label")).to_have_text("AI-generated")
        # The door's vote and decision leave the screen's picture a few seconds into it.
        await expect(screen.locator("#decision")).to_be_visible()
        await expect(screen.locator("#vote")).to_be_hidden(timeout=10_000)
        await expect(screen.locator("#decision")).to_be_hidden()
        await pages.shot(phone, "phone-generated-scene")
        await pages.shot(screen, "screen-generated-scene")
        await expect(screen.locator("#ai-label")).to_be_hidden(timeout=15_000)  # the end
    report = await pages.open(
        f"{server.url}/rooms/{code}/report#token={room['host_token']}",
        name="report",
        viewport=DESKTOP,
    )
    table = report.locator("#report-generated")
    await expect(table).to_contain_text("AI-generated scenes", **WAIT)
    row = table.locator("tr.asset")
    await expect(row).to_have_count(1)
    await expect(row.locator(".outcome")).to_have_text("played")
    await expect(row).to_contain_text("A rope bridge over fog")
    await pages.shot(report, "report-generated")


@pytest.mark.asyncio
async def test_the_host_page_shows_a_fill_in_job_running_then_ready(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pages: Pages
) -> None:
    # The job starts when the vote opens (0.5 s); its cue time is 8.5 s. It is held until
    # the page has shown it running, then finishes long before its cue.
    backend = FakeMontage(tmp_path / "media", audio=False, held=True)
    async with serving_fill_ins(tmp_path, monkeypatch, backend) as server:
        room = await support.make_room(server, story=STORY)
        host = await pages.open(
            f"{server.url}/host#room={room['code']}&token={room['host_token']}",
            name="host",
            viewport=DESKTOP,
        )
        panel = host.locator("#fill-ins")
        await expect(panel).to_be_hidden(**WAIT)  # no job before the screening starts
        await host.locator("#start").click(**WAIT)
        row = panel.locator("tbody tr")
        await expect(row).to_have_count(1, **WAIT)
        await expect(row.locator(".title")).to_have_text("The bridge")
        await expect(row.locator(".backend")).to_have_text("montage")
        await expect(row.locator(".progress")).to_have_text("compose 50%", **WAIT)
        await expect(row.locator("progress")).to_have_attribute("value", "50")
        await expect(row.locator(".cue")).to_have_text(re.compile(r"in \d+ s"))
        await pages.shot(host, "host-fill-in-running")
        backend.release.set()
        await expect(row.locator(".progress")).to_have_text("ready ✓", timeout=10_000)
        await pages.shot(host, "host-fill-in-ready")
        await pages.close()  # before the server stops
