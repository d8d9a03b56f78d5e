"""A real Kinoroom server on 127.0.0.1 (uvicorn, port 0) for integration tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import uvicorn

from server.app import create_app
from server.network.listeners import uvicorn_config
from server.serve import bind
from server.services import Services
from server.settings import Settings
from tests.timing import within

# A quick film: every scene a few seconds, so a whole screening takes ~5 s.
QUICK_STORY = """
kinoroom: 1
title: Quick reel
start: door
variables: {brave: false}
shared_ending: true
scenes:
  door:
    media: quick/door
    duration: 2.5
    choice:
      at: 0.2
      window: 1.2
      prompt: Open the door?
      default: wait
      options:
        - {id: open, label: Open it, goto: hall, set: {brave: true}, mood: {arousal: high}}
        - {id: wait, label: Wait, goto: hall, mood: {arousal: low}}
        - {id: knock, label: Knock twice, goto: hall}
  hall:
    media: quick/hall
    duration: 2.5
    choice:
      at: 0.2
      window: 1.2
      prompt: Which way?
      default: left
      options:
        - {id: left, label: Left, goto: end}
        - {id: right, label: Right, goto: end, if: brave}
  end: {media: quick/end, duration: 1, ending: true, locked: true}
"""


@dataclass
class LiveServer:
    url: str
    ws_url: str
    services: Services
    http: httpx.AsyncClient

    async def story(self, source: str = QUICK_STORY) -> int:
        response = await self.http.post("/api/stories", json={"source": source})
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    async def room(self, policy: str = "plurality", **extra: object) -> dict[str, str]:
        story_id = await self.story()
        body = {"story_id": story_id, "policy": policy, **extra}
        response = await self.http.post("/api/rooms", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    @contextlib.asynccontextmanager
    async def commit_fails_once(self) -> AsyncIterator[asyncio.Event]:
        """The store's next commit raises (a full disk), once: the room whose commit it
        is fails and is restored from the database. The event says it happened."""
        store = self.services.store
        real_commit = store.commit
        failed = asyncio.Event()

        async def broken_once(batch):  # type: ignore[no-untyped-def]
            if not failed.is_set():
                failed.set()
                raise OSError("disk full")
            await real_commit(batch)

        store.commit = broken_once  # type: ignore[method-assign]
        try:
            yield failed
        finally:
            store.commit = real_commit  # type: ignore[method-assign]


def settings_for(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": 0,
        "data_dir": tmp_path / "data",
        "demo_room": False,
        "tick_interval_s": 0.02,
        "tally_interval_s": 0.05,
        "ice_hosts": ["127.0.0.1"],  # WebRTC stays on the machine
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[LiveServer]:
    sock = bind(settings)
    port = sock.getsockname()[1]
    app = create_app(settings)
    server = uvicorn.Server(uvicorn_config(app, settings))  # as `kinoroom serve` runs it
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(within(10)):
            while not server.started:  # uvicorn has no event for it; the socket listens already
                await asyncio.sleep(0.01)
        url = f"http://127.0.0.1:{port}"
        # httpx's default 5 s bound is a speed assumption: 205 joins at once on a busy
        # two-core machine once took longer (test_host_screen.py); this only bounds a hang.
        async with httpx.AsyncClient(base_url=url, timeout=within(60)) as http:
            yield LiveServer(url, f"ws://127.0.0.1:{port}", app.state.services, http)
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest_asyncio.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveServer]:
    async with running(settings_for(tmp_path)) as server:
        yield server


@pytest.fixture
def quick_story() -> str:
    return QUICK_STORY
