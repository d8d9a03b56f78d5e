"""Playout sync on loopback: how far apart Chromium pages show the same frame of the film,
with every page on one server and with the pages split across two cluster nodes.

Run with ``.venv/bin/python bench/sync.py [--nodes 1 2] [--phones 4] [--screens 2]
[--seconds 20]``: makes a test clip (320×180, 30 fps, 1-s GOP, video only) in a temp
media dir, then for each count in ``--nodes`` (both by default, one after the other,
reported side by side):

* **1**: a server in-process on 127.0.0.1 with embedded defaults (SQLite, no Redis), as
  the film issue measured it;
* **2** (or more): a cluster on this machine: real ``kinoroom serve`` nodes with
  ``KINOROOM_CLUSTER`` on a private ``redis-server`` and a fresh PostgreSQL database
  (``tests/server/cluster/conftest.py``'s, dropped afterwards). Each node runs its own
  film reader for the room (DESIGN.md, Scale: "pages on different nodes cut at the same
  instant"), so this is the check of that sentence. Pages take the nodes in turn:
  screen *i* on node *i mod N*, the phones after them (2 screens + 4 phones on 2 nodes:
  a screen and two phones on each).

Both in one run because the question is whether a second node adds spread, and that is
only answered under the same load on the box; the smoke then covers both paths.

With a one-scene story on the room, it opens the screens (`/screen/CODE`) and phones
(`/j/CODE`, joined by tapping) in Debian's Chromium, starts the screening and, once
every page has sent four reports (the first ones steer its buffering into place),
samples each page's latest `playout` report (the median of its offsets over ~2 s: when
a frame was shown minus when it was due on the room clock) once a second for
``--seconds``. The reports are read as the pages send them (Playwright sees each page's
WebSocket frames), so the same code reads pages on any node. Prints p50/p95 of the
**spread** (max − min across pages) between the screens, among the phones, across all
pages, within each node and **across nodes** (the largest difference between a page on
one node and a page on another), and **nearest across nodes** (for each page, the
closest page on another node; the largest of those: 0 when every page has a twin on
another node showing frames at the same instant, so what a node adds, apart from the
display refresh a page happens to be in phase with), and each page's offsets; writes
JSON (default ``bench/results/sync.json``).

Nodes on one machine read one wall and one monotonic clock, so their room clocks agree
to microseconds and the pages' offsets (each against its own node's room clock) compare
directly; across machines the nodes' NTP error would add to the spread. Target (the
film issue, and issue 15 across nodes): spread p95 ≤ 20 ms on loopback. Bounded: each
count's run is capped at ``seconds + 120`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import shutil
import statistics
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, Page, WebSocket, async_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mobile_bridge.client import PhoneClient
from server.rooms.playout import percentile
from tests.mobile_bridge.film.clips import make_clip
from tests.server.cluster.conftest import running_cluster
from tests.server.conftest import running, settings_for
from tests.web.conftest import FLAGS

SETTLE_REPORTS = 4  # reports per page before sampling: the first ones steer it into place
NODE_NAMES = "abcdefgh"
STORY = """
kinoroom: 1
title: Sync reel
start: reel
scenes:
  reel: {media: sync/reel, duration: %(duration)d, ending: true}
"""


@dataclass
class Reports:
    """One page's `playout` reports (seconds), as it sends them."""

    role: str
    node: str
    offsets_s: list[float] = field(default_factory=list)

    def on_socket(self, socket: WebSocket) -> None:
        socket.on("framesent", self._sent)

    def _sent(self, payload: str | bytes) -> None:
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            message = json.loads(payload)
            if message.get("type") == "playout":
                self.offsets_s.append(float(message["offset_ms"]) / 1000)


async def open_page(browser: Browser, url: str, viewport: dict[str, int], reports: Reports) -> Page:
    context = await browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    page = await context.new_page()
    page.on("websocket", reports.on_socket)
    await page.goto(url)
    return page


async def settled(pages: list[Reports], reports: int = SETTLE_REPORTS) -> None:
    """Until every page has sent ``reports`` reports (the steering has had that many
    corrections), or a minute."""
    async with asyncio.timeout(60):
        while min(len(p.offsets_s) for p in pages) < reports:
            await asyncio.sleep(0.25)


def stats_ms(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50_ms": None, "p95_ms": None, "max_ms": None}
    return {
        "p50_ms": round(percentile(values, 0.5) * 1000, 1),
        "p95_ms": round(percentile(values, 0.95) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
    }


@contextlib.asynccontextmanager
async def servers(nodes: int, root: Path, media: Path) -> AsyncIterator[list[str]]:
    """The base URLs: one in-process server, or ``nodes`` cluster nodes."""
    if nodes == 1:
        async with running(settings_for(root, media_dir=media)) as live:
            yield [live.url]
        return
    async with running_cluster(root) as cluster:
        names = NODE_NAMES[:nodes]
        started = await asyncio.gather(*(cluster.node(name) for name in names))
        yield [node.url for node in started]


async def measure(
    nodes: int, phones: int, screens: int, seconds: float, settle: int = SETTLE_REPORTS
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        media = root / "media"  # where the cluster's nodes look too
        clip_s = seconds + 40
        make_clip(media / "sync/reel/360p.ts", "red", seconds=clip_s, audio=False)
        shutil.copy(media / "sync/reel/360p.ts", media / "sync/reel/720p.ts")
        async with servers(nodes, root, media) as urls:
            return await _run(urls, phones, screens, seconds, int(clip_s), settle)


async def _run(
    urls: list[str], phones: int, screens: int, seconds: float, duration: int, settle: int
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=urls[0], trust_env=False, timeout=30) as http:
        story = await http.post("/api/stories", json={"source": STORY % {"duration": duration}})
        created = await http.post("/api/rooms", json={"story_id": story.json()["id"]})
    room = created.json()
    code = room["code"]
    pages: dict[str, Reports] = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        try:
            for i in range(screens):
                node = i % len(urls)
                reports = pages[f"screen{i}@{NODE_NAMES[node]}"] = Reports(
                    "screen", NODE_NAMES[node]
                )
                await open_page(
                    browser, f"{urls[node]}/screen/{code}", {"width": 1280, "height": 720}, reports
                )
            for i in range(phones):
                node = (screens + i) % len(urls)
                reports = pages[f"phone{i}@{NODE_NAMES[node]}"] = Reports("phone", NODE_NAMES[node])
                page = await open_page(
                    browser, f"{urls[node]}/j/{code}", {"width": 360, "height": 640}, reports
                )
                await page.fill("#nickname", f"P{i}")
                await page.click("#join")
                await page.wait_for_selector("#room-title:has-text('Sync reel')")
            async with PhoneClient(urls[0], code, room["host_token"], "host") as host:
                await host.host("start")
                await settled(list(pages.values()), settle)
                samples: list[dict[str, float]] = []
                for _ in range(int(seconds)):
                    await asyncio.sleep(1)
                    samples.append({name: p.offsets_s[-1] for name, p in pages.items()})
                summaries = await _server_summaries(urls, code, room["host_token"])
        finally:
            await browser.close()
    return {
        "nodes": len(urls),
        "phones": phones,
        "screens": screens,
        "seconds": seconds,
        "samples": len(samples),
        "pages": {name: p.node for name, p in pages.items()},
        "spread": {group: stats_ms(values) for group, values in spreads(pages, samples).items()},
        "offsets_ms": {
            name: round(statistics.median(s[name] for s in samples) * 1000, 1) for name in pages
        },
        "offsets_ms_per_sample": {
            name: [round(s[name] * 1000, 1) for s in samples] for name in pages
        },
        "server_summary": summaries,
    }


def spreads(pages: dict[str, Reports], samples: list[dict[str, float]]) -> dict[str, list[float]]:
    """Per group of pages, the spread at each sample (groups of fewer than 2 pages: none)."""
    nodes = sorted({p.node for p in pages.values()})
    groups = {
        "all": list(pages),
        "screen": [n for n, p in pages.items() if p.role == "screen"],
        "phone": [n for n, p in pages.items() if p.role == "phone"],
    }
    if len(nodes) > 1:
        groups.update(
            {f"node {node}": [n for n, p in pages.items() if p.node == node] for node in nodes}
        )
    out: dict[str, list[float]] = {group: [] for group in groups}
    if len(nodes) > 1:
        out["across nodes"] = []
        out["nearest across nodes"] = []
    for sample in samples:
        for group, names in groups.items():
            if len(names) > 1:
                offsets = [sample[n] for n in names]
                out[group].append(max(offsets) - min(offsets))
        if len(nodes) > 1:
            out["across nodes"].append(
                max(
                    abs(sample[a] - sample[b])
                    for a, b in itertools.combinations(pages, 2)
                    if pages[a].node != pages[b].node
                )
            )
            out["nearest across nodes"].append(
                max(
                    min(abs(sample[a] - sample[b]) for b in pages if pages[b].node != page.node)
                    for a, page in pages.items()
                )
            )
    return out


async def _server_summaries(urls: list[str], code: str, token: str) -> dict[str, object]:
    """Each node's own summary of the reports its pages sent (the host's report)."""
    out: dict[str, object] = {}
    for name, url in zip(NODE_NAMES, urls, strict=False):
        async with httpx.AsyncClient(base_url=url, trust_env=False, timeout=30) as http:
            got = await http.get(
                f"/api/rooms/{code}/report", headers={"Authorization": f"Bearer {token}"}
            )
        out[name] = got.json().get("playout") if got.status_code == 200 else got.status_code
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--nodes",
        type=int,
        nargs="+",
        default=[1, 2],
        help="server counts to run, one after the other (1: in-process; more: a cluster)",
    )
    parser.add_argument("--phones", type=int, default=4)
    parser.add_argument("--screens", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--out", type=Path, default=Path("bench/results/sync.json"))
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a screen and a phone, one report to settle, 2 s per count: does it work?",
    )
    args = parser.parse_args()
    if args.smoke:
        args.phones, args.screens, args.seconds = 1, 1, 2.0
    settle = 1 if args.smoke else SETTLE_REPORTS
    runs: list[dict[str, Any]] = []
    for nodes in args.nodes:
        print(f"{nodes} node(s): {args.screens} screens, {args.phones} phones", flush=True)
        runs.append(
            asyncio.run(
                asyncio.wait_for(
                    measure(nodes, args.phones, args.screens, args.seconds, settle),
                    args.seconds + 120,
                )
            )
        )
    groups = list(dict.fromkeys(g for run in runs for g in run["spread"]))
    print("\nspread p50 / p95 (ms)  " + "  ".join(f"{r['nodes']} node(s)".rjust(16) for r in runs))
    for group in groups:
        cells = []
        for run in runs:
            figures = run["spread"].get(group)
            cells.append(
                f"{figures['p50_ms']} / {figures['p95_ms']}"
                if figures and figures["p50_ms"] is not None
                else "-"
            )
        print(f"{group:>22}  " + "  ".join(c.rjust(16) for c in cells))
    for run in runs:
        print(f"median offset per page, {run['nodes']} node(s) (ms):", run["offsets_ms"])
    print("target: spread p95 ≤ 20 ms (all pages, and across nodes)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = {"benchmark": "sync", "target_spread_p95_ms": 20, "runs": runs}
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
