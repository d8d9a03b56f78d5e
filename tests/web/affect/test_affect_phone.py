"""The phone's camera analysis in real Chromium: on the phone, or by the server.

- **On-device path.** Chromium's fake camera plays a face video the test renders
  (scikit-image's smiling astronaut, moving slightly, skin pulsing at 72 bpm, as a
  YUV4MPEG2 file played by the browser this folder's conftest launches). The page finds
  the face, reads the smile, sends `affect` numbers 1–2 times a second (and nothing else:
  no frame, no request outside the server) and the room receives them.
- **Server path** (`?analysis=server`): the camera goes to the server over WebRTC and
  `kinoroom_camera_frames_total` grows. Turning the switch off stops both.

MediaPipe logs its start-up to the console; its one stderr line
("INFO: Created TensorFlow Lite XNNPACK delegate for CPU.") the page reroutes to
console.info, so any console error still fails the test.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.server.conftest import LiveServer
from tests.web import support
from tests.web.affect.conftest import LONG_STORY, PULSE_BPM
from tests.web.conftest import TIMEOUT_MS, Pages

pytestmark = pytest.mark.asyncio
WAIT: dict[str, Any] = {"timeout": TIMEOUT_MS}
SENT_TYPES = {"hello", "ping", "affect", "playout", "vote"}
AFFECT_KEYS = {"type", "valence", "arousal", "engagement", "heart_rate_bpm", "expression"}


class Watched:
    """What a page sends and requests: socket messages, URLs, on-device readings."""

    def __init__(self, page: Page) -> None:
        self.sent: list[str | bytes] = []
        self.urls: list[str] = []
        page.on("websocket", lambda ws: ws.on("framesent", lambda data: self.sent.append(data)))
        page.on("request", lambda request: self.urls.append(request.url))

    def messages(self, kind: str) -> list[dict[str, Any]]:
        out = []
        for payload in self.sent:
            assert isinstance(payload, str), "the page sent a binary frame"
            message = json.loads(payload)
            assert message["type"] in SENT_TYPES, message
            if message["type"] == kind:
                out.append(message)
        return out


async def join(pages: Pages, server: LiveServer, code: str, query: str) -> tuple[Page, Watched]:
    page = await pages.open(f"{server.url}/j/{code}?{query}", name="Ada")
    watched = Watched(page)
    await page.fill("#nickname", "Ada")
    await page.click("#join")
    await expect(page.locator("#room-title")).to_have_text("Browser reel", **WAIT)
    await page.evaluate(
        """() => {
            window.readings = [];
            document.addEventListener("affect-reading", (e) => window.readings.push(e.detail));
            document.addEventListener("camera", (e) => {
                const stream = e.detail.stream;
                if (stream) window.cameraTrack = stream.getVideoTracks()[0];
            });
        }"""
    )
    return page, watched


async def until(check: Any, what: str, timeout_s: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout_s * TIMEOUT_MS / 10_000
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


async def camera_frames(server: LiveServer) -> float:
    text = (await server.http.get("/metrics")).text
    found = re.search(r"^kinoroom_camera_frames_total (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def test_the_phone_analyses_its_own_camera_and_sends_only_numbers(
    server: LiveServer, pages: Pages
) -> None:
    room = await support.make_room(server, story=LONG_STORY)
    page, watched = await join(pages, server, room["code"], "analysis=device")
    toggle = page.locator("#camera-toggle")
    await toggle.click()
    await expect(page.locator("#camera-indicator")).to_have_text("● Camera on", **WAIT)
    path = page.locator("#camera-path")
    await expect(path).to_contain_text("Analysed on your phone", timeout=3 * TIMEOUT_MS)
    started = time.monotonic()

    async def enough_messages() -> bool:
        return len(watched.messages("affect")) >= 8

    await until(enough_messages, "8 affect messages")
    elapsed = time.monotonic() - started
    readings = await page.evaluate("() => window.readings")
    usable = [r for r in readings if not r["flags"]]
    print(
        f"on-device: {len(readings) / elapsed:.1f} analysed frames/s, "
        f"{len(watched.messages('affect')) / elapsed:.1f} messages/s, "
        f"{len(usable)}/{len(readings)} usable"
    )
    await pages.shot(page, "analysed-on-the-phone")
    assert len(readings) / elapsed >= 3, "analysis slower than 3 frames a second"
    assert len(usable) >= 0.8 * len(readings), [r["flags"] for r in readings]
    assert min(r["rawValence"] for r in usable) > 0.3  # she smiles
    assert min(r["engagement"] for r in usable) > 0.5  # at the camera
    assert 40 < readings[-1]["luma"] < 200

    for message in watched.messages("affect"):
        assert set(message) <= AFFECT_KEYS, message
        assert -1 <= message["valence"] <= 1 and -1 <= message["arousal"] <= 1
        assert 0.5 < message["engagement"] <= 1
    live = server.services.rooms.get(room["code"])
    assert live is not None
    assert live.owner is not None
    mood = live.owner.core.screening.mood(live.clock.now())
    assert mood.viewers == 1, mood  # the room counts this phone's numbers

    async def heart_rate() -> float | None:
        rates = [m["heart_rate_bpm"] for m in watched.messages("affect") if "heart_rate_bpm" in m]
        return rates[-1] if rates else None

    bpm = await until(heart_rate, "a heart rate", timeout_s=25)
    print(f"on-device heart rate: {bpm} bpm (the video pulses at {PULSE_BPM})")
    assert bpm == pytest.approx(PULSE_BPM, abs=5)
    await pages.shot(page, "with-a-heart-rate")

    # Nothing but numbers left the page: no request outside the server, no frame.
    outside = [u for u in watched.urls if not u.startswith((server.url, "data:", "blob:"))]
    assert not outside, outside
    assert any(u.endswith("/models/face_landmarker.task") for u in watched.urls)

    await toggle.click()
    await expect(page.locator("#camera-indicator")).to_be_hidden()
    await expect(path).to_be_hidden()
    assert await page.evaluate("() => window.cameraTrack.readyState") == "ended"
    assert await page.evaluate("() => document.querySelector('#camera-preview').srcObject") is None
    await asyncio.sleep(0.6)
    count = len(watched.messages("affect"))
    seen = len(await page.evaluate("() => window.readings"))
    await asyncio.sleep(1.5)
    assert len(watched.messages("affect")) == count, "affect messages after the camera stopped"
    assert len(await page.evaluate("() => window.readings")) == seen
    await pages.shot(page, "camera-off")


async def test_the_server_path_sends_the_camera_and_one_tap_stops_it(
    server: LiveServer, pages: Pages
) -> None:
    room = await support.make_room(server, story=LONG_STORY)
    page, watched = await join(pages, server, room["code"], "analysis=server")
    peers = server.services.peers
    assert peers is not None
    before = await camera_frames(server)
    toggle = page.locator("#camera-toggle")
    await toggle.click()
    await expect(page.locator("#camera-indicator")).to_have_text("● Camera on", **WAIT)
    path = page.locator("#camera-path")
    await expect(path).to_contain_text("Analysed by the server", timeout=2 * TIMEOUT_MS)

    async def frames_arrive() -> bool:
        return await camera_frames(server) >= before + 8

    await until(frames_arrive, "camera frames at the server")
    await pages.shot(page, "analysed-by-the-server")
    assert not watched.messages("affect")  # the server reads the numbers itself
    assert not [u for u in watched.urls if "/vendor/" in u or "/models/" in u]
    with_camera = len(peers)

    await toggle.click()
    await expect(page.locator("#camera-indicator")).to_be_hidden()
    await expect(path).to_be_hidden()
    assert await page.evaluate("() => window.cameraTrack.readyState") == "ended"

    async def camera_peer_closed() -> bool:
        return len(peers) == with_camera - 1

    await until(camera_peer_closed, "the server to drop the camera peer", timeout_s=5)
    await asyncio.sleep(0.5)
    stopped = await camera_frames(server)
    await asyncio.sleep(1.5)
    assert await camera_frames(server) == stopped, "camera frames after the camera stopped"
    await pages.shot(page, "camera-off")
