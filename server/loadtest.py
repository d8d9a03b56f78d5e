"""`kinoroom loadtest`: thousands of bot phones against a running server, then the figures.

Phones live in ``procs`` separate processes (`server.loadtest_workers`), each running
its own event loop with its share of `PhoneClient`s and one `httpx.AsyncClient` for the
joins. Unless a room is given, the load test uploads a story of one scene whose vote
stays open ``duration`` seconds (`load_story_source`), creates a room, and is its host.
The run, phase by phase (each bounded in time; the test stops by itself):

1. join: every phone ``POST``s ``/join`` (a bounded number in flight per process);
2. connect: every phone opens its WebSocket and gets ``welcome``;
3. vote: the host starts; every phone votes once, at a random moment of the window
   (`mobile_bridge.bots`, persona ``random``), and times its ack;
4. decide: each phone stamps the decision as it arrives with ``time.time()``; on one
   machine every process reads the same clock, and the host's clock sync turns the
   stamps into room time, so ``decision_latency_ms`` is measured from the vote's close.

Meanwhile the server's processes are watched (``--server-pid``, or the process listening
on the URL's port, with its children: the workers of ``serve --workers``): memory, and CPU
per node during the vote; with ``--redis-url``, the commands the cluster's Redis served
during the vote. At the end every node's ``/metrics`` give the server-side view of the
same run. The summary is printed and written as JSON (default ``bench/results/loadtest.json``).

The load test measures from the phones' side, on the same machine as the server: the
bots' own CPU time is in the figures. Their processes should not outnumber the cores
the server leaves idle by much.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import platform
import queue
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import httpx
import psutil

from mobile_bridge.bots import BotReport, latency_figures, percentiles_ms
from mobile_bridge.client import PhoneClient
from server.loadtest_report import (
    TARGET_DECISION_P99_MS,
    TARGET_RSS_MB,
    TARGET_VOTE_ACK_P99_MS,
    node_costs,
    report_lines,
    server_metrics,
)
from server.loadtest_watch import RedisOps, ServerWatch, find_server_pid
from server.loadtest_workers import Phase, Share, raise_fd_limit, work

DEFAULT_OUT = Path("bench/results/loadtest.json")
VOTE_OPENS_AT_S = 2.0


def load_story_source(window_s: float) -> str:
    """One scene with one long vote (four options), then an ending."""
    duration = VOTE_OPENS_AT_S + window_s + 2.0
    options = "\n".join(
        f"        - {{id: {o}, label: Option {o.upper()}, goto: end}}" for o in "abcd"
    )
    return f"""kinoroom: 1
title: Load test ({window_s:g} s vote)
start: vote
scenes:
  vote:
    media: load/vote
    duration: {duration:g}
    choice:
      at: {VOTE_OPENS_AT_S:g}
      window: {window_s:g}
      prompt: Which one?
      default: a
      options:
{options}
  end: {{media: load/end, duration: 2, ending: true}}
"""


async def _next(results: multiprocessing.Queue[tuple[str, int, Any]], deadline: float) -> Any:
    while time.monotonic() < deadline:
        with contextlib.suppress(queue.Empty):
            return await asyncio.to_thread(results.get, True, 0.5)
    raise TimeoutError("the worker processes did not answer in time")


async def _create_room(http: httpx.AsyncClient, window_s: float, seed: int) -> tuple[str, str]:
    story = await http.post("/api/stories", json={"source": load_story_source(window_s)})
    story.raise_for_status()
    body = {"story_id": story.json()["id"], "policy": "plurality", "seed": seed}
    room = await http.post("/api/rooms", json=body)
    room.raise_for_status()
    return str(room.json()["code"]), str(room.json()["host_token"])


async def _load(
    url: str, phones: int, duration_s: float, procs: int, room: str | None,
    server_pid: int | None, redis_url: str | None, seed: int, progress: Callable[[str], object],
) -> dict[str, Any]:  # fmt: skip
    host_token = None
    async with httpx.AsyncClient(base_url=url, trust_env=False, timeout=30.0) as http:
        if room is None:
            room, host_token = await _create_room(http, duration_s, seed)
    host = None
    room_minus_wall = None
    if host_token is not None:
        host = PhoneClient(url, room, host_token, "host", timeout_s=60.0, name="loadtest-host")
        await host.connect()
        await host.sync_clock(16)
        room_minus_wall = host.room_now() - time.time()
    watch = ServerWatch(server_pid if server_pid is not None else find_server_pid(url))
    sampling = asyncio.create_task(watch.run())
    redis = RedisOps(redis_url) if redis_url is not None else None
    at_start: dict[str, Any] = {}
    ramp_s = 60.0 + phones / 20  # joins and connects of a slow server, still bounded
    vote_timeout_s = ramp_s + VOTE_OPENS_AT_S + duration_s + 60.0 if host else duration_s
    per = [phones // procs + (i < phones % procs) for i in range(procs)]
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[tuple[str, int, Any]] = context.Queue()
    workers = [
        context.Process(
            target=work,
            args=(Share(i, url, room, sum(per[:i]), per[i], seed, vote_timeout_s), results),
            name=f"loadtest-{i}",
            daemon=True,
        )
        for i in range(procs)
    ]
    phases: dict[str, list[Phase]] = {"joined": [], "connected": []}
    outcomes: list[dict[str, Any]] = []
    failures: list[str] = []
    started_at = None
    try:
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + ramp_s
        while len(phases["connected"]) + len(failures) < procs:
            kind, _, value = await _next(results, deadline)
            if kind == "failed":
                failures.append(value)
                progress(f"a worker failed: {value}")
            elif kind in phases:
                phases[kind].append(value)
                if len(phases[kind]) == procs:
                    done = _rate(phases[kind], phones)
                    progress(f"{kind}: {done['ok']}/{phones} in {done['seconds']} s")
            else:
                outcomes.append(value)
        at_start = await server_metrics(url, watch.nodes())  # who holds which phones
        watch.mark()
        if redis is not None:
            await redis.mark()
        if host is not None:
            await host.host("start")
            started_at = time.time()
            progress(f"started; the vote opens in {VOTE_OPENS_AT_S:g} s for {duration_s:g} s")
        deadline = time.monotonic() + vote_timeout_s + 30.0
        while len(outcomes) + len(failures) < procs:
            kind, _, value = await _next(results, deadline)
            if kind == "failed":
                failures.append(value)
            elif kind == "result":
                outcomes.append(value)
        server = watch.figures()
        metrics = await server_metrics(url, watch.nodes())
    finally:
        sampling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampling
        if host is not None:
            await host.close()
        for worker in workers:
            worker.join(timeout=10.0)
            if worker.is_alive():
                worker.terminate()
    reports: list[BotReport] = [r for o in outcomes for r in o["reports"]]
    errors: Counter[str] = Counter()
    for outcome in outcomes:
        errors.update(outcome["errors"])
    errors.update(f"vote:{code}" for r in reports for code in r.rejected)
    errors.update(f"bot:{r.error}" for r in reports if r.error is not None)
    errors.update({"worker-failed": len(failures)} if failures else {})
    missing = phones - len(reports)
    if missing > 0:
        errors["no-report"] += missing
    figures = latency_figures(reports, room_minus_wall=room_minus_wall)
    acked = int(cast(int, figures["acked"]))
    return {
        "url": url,
        "room": room,
        "phones": phones,
        "procs": procs,
        "duration_s": duration_s,
        "seed": seed,
        "machine": {"cpus": psutil.cpu_count(), "python": platform.python_version()},
        "join": _rate(phases["joined"], phones),
        "connect": _rate(phases["connected"], phones),
        "started_at": started_at,
        "votes": {k: figures[k] for k in ("votes", "acked", "rejected", "reconnects")},
        "refused_in_time": figures["refused_in_time"],
        "vote_ack_ms": figures["vote_ack_ms"],
        "decision_latency_ms": figures["decision_latency_ms"],
        "decision_spread_ms": figures["decision_spread_ms"],
        "phones_decided": figures["phones_decided"],
        "errors": dict(errors),
        "worker_failures": failures,
        "server": {**server, "metrics": metrics},
        "nodes": node_costs(server, at_start),
        "redis": await redis.figures(acked) if redis is not None else None,
        "targets": {
            "vote_ack_p99_ms": TARGET_VOTE_ACK_P99_MS,
            "decision_latency_p99_ms": TARGET_DECISION_P99_MS,
            "server_rss_mb": TARGET_RSS_MB,
        },
        "ack_ms_by_second": _acks_by_second(reports),
    }


def _rate(phases: list[Phase], phones: int) -> dict[str, object]:
    if not phases:
        return {"ok": 0, "of": phones, "seconds": None, "per_s": None}
    ok = sum(p.ok for p in phases)
    seconds = max(p.finished for p in phases) - min(p.started for p in phases)
    return {
        "ok": ok,
        "of": phones,
        "seconds": round(seconds, 2),
        "per_s": round(ok / seconds, 1) if seconds > 0 else None,
    }


def _acks_by_second(reports: list[BotReport]) -> list[dict[str, object]]:
    """Ack latency per second of the window: does it grow as the votes pile up?"""
    buckets: dict[int, list[float]] = {}
    for report in reports:
        for at, seconds in zip(report.acked_at, report.ack_s, strict=True):
            buckets.setdefault(int(at), []).append(seconds)
    first = min(buckets, default=0)
    return [
        {"second": s - first, "acks": len(buckets[s]), **percentiles_ms(buckets[s])}
        for s in sorted(buckets)
    ]


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run_loadtest(
    *,
    url: str,
    phones: int,
    duration_s: float = 10.0,
    procs: int = 1,
    room: str | None = None,
    out: Path | None = DEFAULT_OUT,
    server_pid: int | None = None,
    redis_url: str | None = None,
    seed: int = 0,
    as_json: bool = False,
    echo: Callable[[str], object] = print,
    progress: Callable[[str], object] = _to_stderr,
) -> int:
    """Run a load test; 0 when every phone joined, voted and got the decision, else 1.

    Args:
        url: the server, ``http://host:port``.
        phones: bot phones in all.
        duration_s: the vote window of the room the load test creates; with ``room``,
            how long the phones wait for a vote to open.
        procs: worker processes the phones are spread over.
        room: an existing room's code (then nobody starts it: its host must).
        out: where the JSON goes (None: nowhere).
        server_pid: the server's process, for its memory and CPU with its children's
            (default: whoever listens on the URL's port).
        redis_url: a cluster's Redis, to count its commands per vote.
        seed: seeds the room and the bots.
        as_json: print the JSON instead of the summary.
        echo: where the summary goes.
        progress: where a line goes as each phase ends.
    """
    if phones < 1 or procs < 1 or duration_s <= 0:
        raise ValueError("phones and procs must be at least 1, duration positive")
    raise_fd_limit()
    procs = min(procs, phones)
    load = _load(url, phones, duration_s, procs, room, server_pid, redis_url, seed, progress)
    result = asyncio.run(load)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if as_json:
        echo(json.dumps(result))
    else:
        for line in report_lines(result):
            echo(line)
        if out is not None:
            echo(f"wrote {out}")
    return 1 if result["errors"] else 0


__all__ = [
    "DEFAULT_OUT",
    "load_story_source",
    "run_loadtest",
]
