"""Playout sync on loopback: how far apart Chromium pages show the same frame of the film.

Run with ``.venv/bin/python bench/sync.py [--phones 4] [--screens 2] [--seconds 20]``:
makes a test clip (320×180, 30 fps, 1-s GOP, video only) in a temp media dir, starts a
server in-process on 127.0.0.1 with a one-scene story on it, opens the screens
(`/screen/CODE`) and phones (`/j/CODE`, joined by tapping) in Debian's Chromium, starts
the screening and, once every page has sent four reports (the first ones steer its
buffering into place), samples each page's latest `playout`
report (the median of its offsets over ~2 s: when a frame was shown minus when it was
due on the room clock) once a second for ``--seconds``. Prints p50/p95 of the **spread**
(max − min across pages) between the screens, among the phones and across all pages,
and each page's offsets; writes JSON (default ``bench/results/sync.json``).
Target (the film issue): spread p95 ≤ 20 ms on loopback. Bounded: the whole run is
capped at ``seconds + 90`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mobile_bridge.client import PhoneClient
from server.rooms.playout import RoomPlayout, percentile
from tests.mobile_bridge.film.clips import make_clip
from tests.server.conftest import LiveServer, running, settings_for
from tests.web.conftest import FLAGS

SETTLE_REPORTS = 4  # reports per page before sampling: the first ones steer it into place
STORY = """
kinoroom: 1
title: Sync reel
start: reel
scenes:
  reel: {media: sync/reel, duration: %(duration)d, ending: true}
"""


async def open_page(browser: Browser, url: str, viewport: dict[str, int]) -> Page:
    context = await browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    page = await context.new_page()
    await page.goto(url)
    return page


async def settled(book: RoomPlayout, pages: int, reports: int = SETTLE_REPORTS) -> None:
    """Until every page has sent ``reports`` more reports (the steering has had that many
    corrections), or a minute."""
    seen: dict[str, set[float]] = {}
    async with asyncio.timeout(60):
        while len(seen) < pages or min(len(at) for at in seen.values()) < reports:
            for device, report in book.latest().items():
                seen.setdefault(device, set()).add(report.at)
            await asyncio.sleep(0.25)


def stats_ms(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50_ms": None, "p95_ms": None, "max_ms": None}
    return {
        "p50_ms": round(percentile(values, 0.5) * 1000, 1),
        "p95_ms": round(percentile(values, 0.95) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
    }


async def measure(phones: int, screens: int, seconds: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        media = root / "media"
        clip_s = seconds + 40
        make_clip(media / "sync/reel/360p.ts", "red", seconds=clip_s, audio=False)
        shutil.copy(media / "sync/reel/360p.ts", media / "sync/reel/720p.ts")
        async with running(settings_for(root, media_dir=media)) as live:
            return await _run(live, phones, screens, seconds, int(clip_s))


async def _run(
    live: LiveServer, phones: int, screens: int, seconds: float, duration: int
) -> dict[str, object]:
    story_id = await live.story(STORY % {"duration": duration})
    created = await live.http.post("/api/rooms", json={"story_id": story_id})
    room = created.json()
    code = room["code"]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        try:
            for _ in range(screens):
                await open_page(
                    browser, f"{live.url}/screen/{code}", {"width": 1280, "height": 720}
                )
            for i in range(phones):
                page = await open_page(
                    browser, f"{live.url}/j/{code}", {"width": 360, "height": 640}
                )
                await page.fill("#nickname", f"P{i}")
                await page.click("#join")
                await page.wait_for_selector("#room-title:has-text('Sync reel')")
            async with PhoneClient(live.url, code, room["host_token"], "host") as host:
                await host.host("start")
                book = live.services.playout.room(code)
                started = time.monotonic()
                while len(book.latest()) < phones + screens:  # every page has reported
                    if time.monotonic() - started > 60:
                        raise TimeoutError(f"only {len(book.latest())} pages reported")
                    await asyncio.sleep(0.25)
                await settled(book, phones + screens)
                samples: list[dict[str, tuple[str, float]]] = []
                for _ in range(int(seconds)):
                    await asyncio.sleep(1)
                    samples.append({d: (r.role, r.offset_s) for d, r in book.latest().items()})
        finally:
            await browser.close()
    spreads: dict[str, list[float]] = {"screen": [], "phone": [], "all": []}
    per_page: dict[str, list[float]] = {}
    for sample in samples:
        for group in spreads:
            offsets = [o for role, o in sample.values() if group in ("all", role)]
            if len(offsets) > 1:
                spreads[group].append(max(offsets) - min(offsets))
        for device, (role, offset) in sample.items():
            per_page.setdefault(f"{role}:{device[:6]}", []).append(offset)
    return {
        "phones": phones,
        "screens": screens,
        "seconds": seconds,
        "samples": len(samples),
        "spread": {group: stats_ms(values) for group, values in spreads.items()},
        "offsets_ms": {
            page: round(statistics.median(values) * 1000, 1) for page, values in per_page.items()
        },
        "offsets_ms_per_sample": {
            page: [round(v * 1000, 1) for v in values] for page, values in per_page.items()
        },
        "server_summary": live.services.playout.summary(code, _room_now(live, code)),
    }


def _room_now(live: LiveServer, code: str) -> float:
    room = live.services.rooms.get(code)
    return room.clock.now() if room is not None else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--phones", type=int, default=4)
    parser.add_argument("--screens", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--out", type=Path, default=Path("bench/results/sync.json"))
    parser.add_argument("--smoke", action="store_true", help="2 pages, 2 s: does it work?")
    args = parser.parse_args()
    if args.smoke:
        args.phones, args.screens, args.seconds = 1, 1, 2.0
    result = asyncio.run(
        asyncio.wait_for(measure(args.phones, args.screens, args.seconds), args.seconds + 90)
    )
    for group, figures in result["spread"].items():  # type: ignore[attr-defined]
        print(f"spread {group:>6}: p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms")
    print("median offset per page (ms):", result["offsets_ms"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
