"""Fan-out benchmark: phones per core at 360p, ours (`Film`) before and after, and stock aiortc.

Run with::

    .venv/bin/python bench/fanout.py [--max-peers 500] [--step-s 8] [--out FILE]
    .venv/bin/python bench/fanout.py --smoke        # 4 phones, a second a step: that it runs
    .venv/bin/python bench/fanout.py --modes --nodes 1 2 --no-quality   # 1 node vs 2 only

This process is the server, and the only one measured. It serves N receivers the same
360p film (ingest's profile, ~0.8 Mbps, 30 fps, 1-s GOP, Opus 60 ms; made by
``fanout_media.py`` in a temporary folder) in each mode, one after another, under
identical conditions:

* ``ours``: today's `Film` (one GSO system call per phone and frame, SRTP in place,
  frames paced at the keyframe's speed: `mobile_bridge.film`);
* ``ours-before``: the film track before issue 17 (``film_before/``, a frozen copy of
  the modules it changed: one ``sendto`` per packet, copying SRTP, flat-out passes);
* ``stock``: aiortc's ``MediaPlayer(file, decode=False)`` + ``MediaRelay``;
* ``ours-aiortc`` (only when asked): our reader, aiortc's own sender for each peer.

The receivers are aiortc peers in a second process (``fanout_sink.py``) that drops SRTP
at its socket, so they cost the server nothing beyond a real phone. On loopback the
kernel's receive path runs in the sender's system call, so the server pays part of what
the phones' kernels would; every mode alike.

N ramps (10, 25, 50, 100, 150, 200, 250, 300, 400, …) up to ``--max-peers``: new peers
connect, the film settles ``--settle-s``, then ``--step-s`` is measured: the server's
CPU (``process_time / wall``, all its threads), its garbage collector's pauses, and
**late frames**, counted where every packet leaves the server (the socket class's
``sendto`` and ``sendmsg`` are wrapped and read the clear RTP header; a GSO batch's
frame ends in its last segment): a frame is **late** when its last packet left more
than one frame interval (33 ms) later than its timestamp says, relative to that
stream's earliest frame, and **behind** when more than 250 ms. A step **keeps up** with
no frame behind and ≥ 99 % of the frames due actually sent (a fan-out that drops a slow
peer to the next keyframe sends fewer), and is **ok** (strict) when it also has no late
frame. A mode stops at its first step that does not keep up, or after ``--budget-s``.
**Phones per core** is N / CPU fraction at the largest N that passed the criterion at
every step up to it (CPU below one core there, so this extrapolates to one full core;
the knee says where it actually stops). ``--freeze`` calls ``gc.freeze()`` after each
step's peers connect (full collections then skip their objects); off by default.

Then, for ours only, one decoding receiver at a time (``fanout_sink.py --decode``):
**late join** (connected → first decoded frame, joining mid-GOP at three phases) and
**switch continuity** across a branch switch: RTP timestamp steps, every decoded frame
compared with the clips' own frames in order (none missing, repeated or frozen), the
first frame of the new branch, and arrival gaps around it.

With ``--nodes 1 2`` (after the modes; ``--modes`` with no mode runs only these), the
same ramp serves ``ours`` from node processes instead (``fanout_node.py``): each runs
its own `Film` reader over the clip, all started at one instant of the machine's
monotonic clock, and the phones are dealt to the nodes in turn; this process only
passes offers and answers. That is what a cluster node does for the film (DESIGN.md,
Scale: every node serving a room runs its own reader, paced by the shared room clock),
without the rest of ``kinoroom serve``: seats, sockets, Redis and PostgreSQL would put
the join path in the figures, and each node measures its datagrams with `SendWatch`
from inside, which a real node does not offer. (The film across real nodes is checked
by ``tests/server/cluster/test_cluster_film.py`` and ``bench/sync.py``.) A step keeps up
when every node does; its CPU is the nodes' together, so phones per core compares the
nodes' efficiency, and **phones** (the largest N that kept up) what the machine served.
On a two-core machine the phones' process shares the cores with the nodes, so two nodes
cannot each get a core of their own: the per-node CPU and the sink's are printed with
each step to show which one ran out, and each node's peers that are no longer connected
(a node closes a peer whose consent checks, RFC 7675, go unanswered: what a saturated
phones' process does to it).

Prints a table and writes JSON (default ``bench/results/fanout.json``). Targets: ours ≥
2× stock (issue 6); ≥ 600 phones/core keeping up, ≥ 300 with no late frame, late join
≤ 1 s (issue 17).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import itertools
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import aioice.ice
import av
from aiortc import RTCPeerConnection
from aiortc.contrib.media import MediaPlayer, MediaRelay
from aiortc.mediastreams import MediaStreamTrack
from fanout_media import loop_clip, make_clip
from fanout_node import answer_offer
from fanout_sink import FRAME_S
from fanout_watch import GcWatch, SendWatch
from film_before import Film as FilmBefore

from mobile_bridge.film import Film, media_dir_lookup

HERE = Path(__file__).parent
DEFAULT_STEPS = (10, 25, 50, 100, 150, 200, 250, 300, 400, 500, 600, 800)
SMOKE_STEPS = (4,)
CLIP_S = 10
BATCH = 25


class Child:
    """A helper process (the receivers', or a node's), driven over JSON lines."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process

    @classmethod
    async def start(cls, script: str, *args: str) -> Child:
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(HERE / script), *args,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=1 << 26,
        )  # fmt: skip
        return cls(process)

    async def call(self, **command: Any) -> dict[str, Any]:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps(command).encode() + b"\n")
        await self._process.stdin.drain()
        line = await self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the helper process {self._process.pid} ended")
        reply: dict[str, Any] = json.loads(line)
        return reply

    async def stop(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            async with asyncio.timeout(20):
                await self._process.wait()
        except TimeoutError:
            self._process.kill()
            await self._process.wait()


Tracks = Callable[[], Sequence[MediaStreamTrack]]


async def add_peers(
    sink: Child, count: int, tracks: Tracks, pcs: list[RTCPeerConnection]
) -> tuple[int, float]:
    """Connect ``count`` more receivers; returns (failed, seconds it took)."""
    started = time.monotonic()
    failed = 0
    while count > 0:
        batch = min(BATCH, count)
        count -= batch
        offers = (await sink.call(op="offer", n=batch))["offers"]
        answers = [await answer_offer(offer, tracks(), pcs) for offer in offers]
        reply = await sink.call(op="answer", sdps=answers)
        failed += reply["failed"]
    return failed, time.monotonic() - started


async def ramp(
    mode: str, tracks: Tracks, steps: Sequence[int], args: argparse.Namespace, watch: SendWatch
) -> list[dict[str, Any]]:
    sink = await Child.start("fanout_sink.py")
    gc_watch = GcWatch()
    pcs: list[RTCPeerConnection] = []
    results: list[dict[str, Any]] = []
    deadline = time.monotonic() + args.budget_s
    try:
        for n in steps:
            if time.monotonic() > deadline:
                print(f"  {mode}: time budget spent before N={n}")
                break
            failed, connect_s = await add_peers(sink, n - len(pcs), tracks, pcs)
            if args.freeze:
                gc.freeze()  # the peers' objects: full collections no longer walk them
            await asyncio.sleep(args.settle_s)
            watch.take()
            gc_watch.take()
            sink_cpu0 = (await sink.call(op="stats"))["cpu_s"]
            wall0, cpu0 = time.monotonic(), time.process_time()
            await asyncio.sleep(args.step_s)
            wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
            sent = watch.take()
            pauses = gc_watch.take()
            received = await sink.call(op="stats")
            received["cpu_s"] -= sink_cpu0
            step = step_figures(n, failed, connect_s, wall, cpu, sent, pauses, received)
            results.append(step)
            print_step(mode, step)
            if not step["keeps_up"]:
                break
    finally:
        gc_watch.close()
        await asyncio.gather(*(pc.close() for pc in pcs), return_exceptions=True)
        await sink.stop()
    return results


def step_figures(
    n: int, failed: int, connect_s: float, wall: float, cpu: float,
    sent: dict[str, Any], pauses: dict[str, Any], received: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    """One step's figures and verdicts (``cpu``: the server's, or all nodes' together)."""
    due = n * wall / FRAME_S
    step = {
        "peers": n,
        "failed_to_connect": failed,
        "connect_s": round(connect_s, 2),
        "wall_s": round(wall, 2),
        "cpu_fraction": round(cpu / wall, 4),
        "phones_per_core": round(n / (cpu / wall), 1),
        "frames_sent": sent["frames"],
        "frames_sent_ratio": round(sent["frames"] / due, 4),
        "late_frames": sent["late_frames"],
        "behind_frames": sent["behind_frames"],
        "max_late_ms": round(sent["max_late_ms"], 1),
        "packets_sent_per_s": round(sent["packets"] / wall),
        "sink_late_frames": received["late_frames"],
        "sink_max_late_ms": round(received["max_late_ms"], 1),
        "sink_frames_ratio": round(received["frames"] / due, 4),
        "sink_cpu_fraction": round(received["cpu_s"] / wall, 4),
        **pauses,
    }
    step["keeps_up"] = (
        failed == 0 and step["behind_frames"] == 0 and step["frames_sent_ratio"] >= 0.99
    )
    step["ok"] = step["keeps_up"] and step["late_frames"] == 0
    return step


def print_step(mode: str, step: dict[str, Any]) -> None:
    n = step["peers"]
    print(
        f"  {mode:11} N={n:4}  cpu {step['cpu_fraction']:6.1%}  "
        f"phones/core {step['phones_per_core']:7.1f}  late {step['late_frames']:5} "
        f"behind {step['behind_frames']:5} (max {step['max_late_ms']:6.1f} ms)  "
        f"frames {step['frames_sent_ratio']:6.1%}  sink late {step['sink_late_frames']} "
        f"cpu {step['sink_cpu_fraction']:.0%}  gc max {step['gc_max_ms']} ms  "
        f"{'ok' if step['ok'] else 'keeps up' if step['keeps_up'] else 'FAIL'}",
        flush=True,
    )
    if "nodes" in step:
        each = ", ".join(
            f"{node['peers']} phones at {node['cpu_fraction']:.1%} cpu"
            + ("" if set(node["peer_states"]) == {"connected"} else f" {node['peer_states']}")
            for node in step["nodes"]
        )
        print(f"  {'':11}         per node: {each}", flush=True)


async def add_node_peers(
    sink: Child, nodes: Sequence[Child], count: int, dealt: int
) -> tuple[int, float]:
    """Connect ``count`` more receivers, dealt to the nodes in turn after the ``dealt``
    already connected; returns (failed, seconds it took)."""
    started = time.monotonic()
    failed = 0
    while count > 0:
        batch = min(BATCH, count)
        count -= batch
        offers = (await sink.call(op="offer", n=batch))["offers"]
        where = [(dealt + k) % len(nodes) for k in range(batch)]
        dealt += batch
        parts = await asyncio.gather(
            *(
                node.call(
                    op="answer", sdps=[o for o, w in zip(offers, where, strict=True) if w == i]
                )
                for i, node in enumerate(nodes)
            )
        )
        answers = [iter(part["answers"]) for part in parts]
        reply = await sink.call(op="answer", sdps=[next(answers[w]) for w in where])
        failed += reply["failed"]
    return failed, time.monotonic() - started


async def ramp_nodes(
    count: int, film_root: Path, steps: Sequence[int], args: argparse.Namespace
) -> list[dict[str, Any]]:
    """``ours`` served by ``count`` node processes (``fanout_node.py``), phones dealt in turn.

    This process only passes the offers and answers between the sink and the nodes; each
    node measures itself. A step's CPU is the nodes' together, it keeps up when every
    node does, and ``nodes`` gives each node's peers, CPU and frames.
    """
    mode = f"{count} node" + ("s" if count > 1 else "")
    sink = await Child.start("fanout_sink.py")
    nodes = [await Child.start("fanout_node.py", str(film_root)) for _ in range(count)]
    results: list[dict[str, Any]] = []
    deadline = time.monotonic() + args.budget_s
    try:
        starts_at = time.monotonic() + 1.0  # the readers open the clip first
        await asyncio.gather(*(node.call(op="play", starts_at=starts_at) for node in nodes))
        await asyncio.sleep(max(0.0, starts_at - time.monotonic()))
        dealt = 0
        for n in steps:
            if time.monotonic() > deadline:
                print(f"  {mode}: time budget spent before N={n}")
                break
            failed, connect_s = await add_node_peers(sink, nodes, n - dealt, dealt)
            dealt = n
            await asyncio.sleep(args.settle_s)
            await asyncio.gather(*(node.call(op="take") for node in nodes))
            sink_cpu0 = (await sink.call(op="stats"))["cpu_s"]
            await asyncio.sleep(args.step_s)
            each = await asyncio.gather(*(node.call(op="stats") for node in nodes))
            received = await sink.call(op="stats")
            received["cpu_s"] -= sink_cpu0
            step = node_step(n, failed, connect_s, each, received)
            results.append(step)
            print_step(mode, step)
            if not step["keeps_up"]:
                break
    finally:
        for node in nodes:
            await node.stop()
        await sink.stop()
    return results


def node_step(
    n: int, failed: int, connect_s: float, each: list[dict[str, Any]], received: dict[str, Any]
) -> dict[str, Any]:
    """One step's figures from every node's ``stats``: sums, and each node on its own."""
    wall = statistics.fmean(e["wall_s"] for e in each)
    sent = {
        key: sum(e["sent"][key] for e in each)
        for key in ("frames", "late_frames", "behind_frames", "packets")
    }
    sent["max_late_ms"] = max(e["sent"]["max_late_ms"] for e in each)
    pauses = {
        "gc_pauses": sum(e["pauses"]["gc_pauses"] for e in each),
        "gc_max_ms": max(e["pauses"]["gc_max_ms"] for e in each),
    }
    cpu = sum(e["cpu_s"] for e in each)
    step = step_figures(n, failed, connect_s, wall, cpu, sent, pauses, received)
    step["nodes"] = []
    for i, e in enumerate(each):
        peers = len(range(i, n, len(each)))
        step["nodes"].append(
            {
                "peers": peers,
                "cpu_fraction": round(e["cpu_s"] / e["wall_s"], 4),
                "frames_sent_ratio": round(
                    e["sent"]["frames"] * FRAME_S / (peers * e["wall_s"]), 4
                ),
                "late_frames": e["sent"]["late_frames"],
                "behind_frames": e["sent"]["behind_frames"],
                "max_late_ms": round(e["sent"]["max_late_ms"], 1),
                "peer_states": e["states"],
            }
        )
    step["keeps_up"] = step["keeps_up"] and all(
        node["frames_sent_ratio"] >= 0.99 for node in step["nodes"]
    )
    step["ok"] = step["keeps_up"] and step["late_frames"] == 0
    return step


async def run_ours(name: str, film_type: Any, film_root: Path, steps: Sequence[int],
                   args: argparse.Namespace, watch: SendWatch, *, direct: bool = True,
                   ) -> list[dict[str, Any]]:  # fmt: skip
    film = film_type(time.monotonic, media_dir_lookup(film_root), direct=direct)
    film.play("long", starts_at=time.monotonic() + 0.05)
    try:
        return await ramp(name, lambda: film.subscribe("360p"), steps, args, watch)
    finally:
        await film.close()


async def run_stock(film_root: Path, steps: Sequence[int], args: argparse.Namespace,
                    watch: SendWatch) -> list[dict[str, Any]]:  # fmt: skip
    player = MediaPlayer(str(film_root / "long" / "360p.ts"), decode=False)
    relay = MediaRelay()
    assert player.video is not None and player.audio is not None

    def tracks() -> list[MediaStreamTrack]:
        assert player.video is not None and player.audio is not None
        return [relay.subscribe(player.video), relay.subscribe(player.audio)]

    try:
        return await ramp("stock", tracks, steps, args, watch)
    finally:
        player.video.stop()
        player.audio.stop()


MODES: dict[str, Callable[..., Awaitable[list[dict[str, Any]]]]] = {
    "ours": functools.partial(run_ours, "ours", Film),
    "ours-before": functools.partial(run_ours, "ours-before", FilmBefore),
    "ours-aiortc": functools.partial(run_ours, "ours-aiortc", Film, direct=False),
    "stock": run_stock,
}


async def watch_quality(film_root: Path) -> dict[str, Any]:
    """Late join at three GOP phases, then a branch switch, with decoding receivers."""
    film = Film(time.monotonic, media_dir_lookup(film_root))
    sink = await Child.start("fanout_sink.py", "--decode")
    pcs: list[RTCPeerConnection] = []
    start = time.monotonic() + 0.2
    try:
        film.play("a", starts_at=start)
        film.prepare(["b", "c"])  # a vote opens
        for join_at in (1.4, 2.75, 4.1):  # mid-GOP, late in a GOP, early in one
            await asyncio.sleep(max(0.0, start + join_at - time.monotonic()))
            await add_peers(sink, 1, lambda: film.subscribe("360p"), pcs)
        await asyncio.sleep(max(0.0, start + CLIP_S - 3.0 - time.monotonic()))
        film.next("b", starts_at=start + CLIP_S)  # the vote closes 3 s before the boundary
        await asyncio.sleep(max(0.0, start + CLIP_S + 2.5 - time.monotonic()))
        receivers = (await sink.call(op="frames"))["receivers"]
    finally:
        await asyncio.gather(*(pc.close() for pc in pcs), return_exceptions=True)
        await sink.stop()
        await film.close()
    joins = [r["frames"][0][1] - r["connected_at"] for r in receivers if r["frames"]]
    offers = [r["frames"][0][1] - r["offered_at"] for r in receivers if r["frames"]]
    frames = receivers[0]["frames"]
    steps = [b[0] - a[0] for a, b in itertools.pairwise(frames)]
    # A repeat in the source (x264 may skip-code the frame after a big IDR) is not a
    # frozen frame: compare with the clips' own frames, aligned on the first one.
    source = band_values(film_root / "a" / "360p.ts") + band_values(film_root / "b" / "360p.ts")
    received = [f[2] for f in frames]
    offset = min(
        range(len(source) - len(received) + 1),
        key=lambda o: sum(abs(source[o + k] - b) for k, b in enumerate(received)),
        default=0,
    )
    mismatched = [k for k, b in enumerate(received) if abs(source[offset + k] - b) > 2]
    frozen = [
        k
        for k in range(1, len(received))
        if abs(received[k] - received[k - 1]) < 1
        and abs(source[offset + k] - source[offset + k - 1]) >= 1
    ]
    switch = next((i for i, f in enumerate(frames) if f[3] > 150), None)
    around = frames[max(0, (switch or 0) - 15) : (switch or 0) + 15]
    gaps_ms = [1e3 * (b[1] - a[1]) for a, b in itertools.pairwise(around)]
    return {
        "late_join_s": [round(j, 3) for j in joins],
        "late_join_s_max": round(max(joins), 3) if joins else None,
        "offer_to_first_frame_s": [round(o, 3) for o in offers],
        "audio_frames": [r["audio_frames"] for r in receivers],
        "switch": {
            "frames_decoded": len(frames),
            "pts_steps": sorted(set(steps)),
            "frozen_frames": len(frozen),
            "frames_not_matching_source": len(mismatched),
            "first_frame_is_source_frame": offset,
            "new_branch_from_frame": switch,
            "new_branch_first_pts_step": steps[switch - 1] if switch else None,
            "arrival_gap_ms_max_around_switch": round(max(gaps_ms), 1) if gaps_ms else None,
            "arrival_gap_ms_median_around_switch": (
                round(statistics.median(gaps_ms), 1) if gaps_ms else None
            ),
        },
    }


def band_values(path: Path) -> list[float]:
    """The mean of each decoded frame's top band (its shade changes every frame)."""
    with av.open(str(path)) as container:
        return [
            float(frame.to_ndarray(format="yuv420p")[: frame.height // 10].mean())
            for frame in container.decode(video=0)
        ]


def knee(results: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """The largest N that passed ``key`` (every smaller step passed it too)."""
    best = None
    for step in results:
        if not step[key]:
            break
        best = step
    return {
        "max_peers": best["peers"] if best else 0,
        "cpu_fraction_there": best["cpu_fraction"] if best else None,
        "phones_per_core": best["phones_per_core"] if best else None,
    }


def knees(results: list[dict[str, Any]]) -> dict[str, Any]:
    return {"no_late": knee(results, "ok"), "keeps_up": knee(results, "keeps_up"), "steps": results}


def over_one(nodes: dict[str, Any]) -> dict[str, Any]:
    """Each node count against one node, per criterion: phones (at the knee), phones per core."""
    one = nodes.get("1")
    out: dict[str, Any] = {}
    for count, fig in nodes.items():
        if one is None or count == "1":
            continue
        per_core = ratio(nodes, count, "1")
        out[count] = {
            key: {
                "phones": (
                    round(fig[key]["max_peers"] / one[key]["max_peers"], 2)
                    if one[key]["max_peers"]
                    else None
                ),
                "phones_per_core": per_core[key],
            }
            for key in ("no_late", "keeps_up")
        }
    return out


def ratio(figures: dict[str, Any], ours: str, theirs: str) -> dict[str, float | None]:
    """Phones per core of ``ours`` over ``theirs``, per criterion (None where one is missing)."""
    out: dict[str, float | None] = {}
    for key in ("no_late", "keeps_up"):
        a, b = (figures.get(m, {}).get(key, {}).get("phones_per_core") for m in (ours, theirs))
        out[key] = round(a / b, 2) if a and b else None
    return out


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
    steps = [n for n in (SMOKE_STEPS if args.smoke else DEFAULT_STEPS) if n <= args.max_peers]
    clip_s = 2 if args.smoke else CLIP_S
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for clip, tint in (("a", 0), ("b", 60), ("c", -60))[: 1 if args.no_quality else 3]:
            (root / clip).mkdir()
            make_clip(root / clip / "360p.ts", seconds=clip_s, tint=tint, seed=ord(clip))
        (root / "long").mkdir()
        loops = int(args.budget_s * 1.5 // clip_s) + 6
        loop_clip(root / "a" / "360p.ts", root / "long" / "360p.ts", loops)
        watch = SendWatch()
        ramps: dict[str, list[dict[str, Any]]] = {}
        for mode in args.modes:
            print(f"{mode}: ramping {steps}", flush=True)
            ramps[mode] = await MODES[mode](root, steps, args, watch)
        node_ramps: dict[str, list[dict[str, Any]]] = {}
        for count in args.nodes:
            print(f"ours on {count} node process(es): ramping {steps}", flush=True)
            node_ramps[str(count)] = await ramp_nodes(count, root, steps, args)
        quality = await watch_quality(root) if not args.no_quality else None
    figures = {mode: knees(results) for mode, results in ramps.items()}
    nodes = {count: knees(results) for count, results in node_ramps.items()}
    return {
        "benchmark": "fanout",
        "rendition": "360p",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "settings": {
            "steps": steps,
            "step_s": args.step_s,
            "settle_s": args.settle_s,
            "budget_s": args.budget_s,
            "freeze": args.freeze,
            "late_threshold_ms": round(FRAME_S * 1e3, 1),
        },
        "modes": figures,
        "ours_over_stock": ratio(figures, "ours", "stock"),
        "ours_over_before": ratio(figures, "ours", "ours-before"),
        "nodes": nodes,
        "nodes_over_one": over_one(nodes),
        "targets": {
            "ours_over_stock": 2.0,
            "keeps_up_phones_per_core": 600,
            "no_late_phones_per_core": 300,
            "late_join_s": 1.0,
        },
        "quality": quality,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-peers", type=int, default=400)
    parser.add_argument("--step-s", type=float, default=10.0, help="measured seconds per step")
    parser.add_argument("--settle-s", type=float, default=2.0, help="after connecting, unmeasured")
    parser.add_argument("--budget-s", type=float, default=120.0, help="time limit per mode")
    parser.add_argument(
        "--modes",
        nargs="*",
        default=["ours", "ours-before", "stock"],
        choices=list(MODES),
        help="ours-before: the film track before issue 17 (bench/film_before/); "
        "ours-aiortc: our reader, aiortc's sender (the film before direct send); "
        "none: only the --nodes ramps",
    )
    parser.add_argument(
        "--nodes",
        type=int,
        nargs="*",
        default=[],
        help="then ramp ours served by this many node processes each (fanout_node.py, "
        "phones dealt in turn), e.g. --nodes 1 2: phones and phones per core side by side",
    )
    parser.add_argument("--no-quality", action="store_true", help="skip late join and switch")
    parser.add_argument(
        "--freeze",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="gc.freeze() after connecting each step's peers (full collections skip them)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a few peers for a second a step, no late join or switch: that it runs",
    )
    parser.add_argument("--out", type=Path, help="default: bench/results/fanout[-smoke].json")
    args = parser.parse_args()
    if args.smoke:
        args.step_s, args.settle_s, args.budget_s, args.no_quality = 1.5, 1.2, 30.0, True
    if args.out is None:
        args.out = HERE / "results" / ("fanout-smoke.json" if args.smoke else "fanout.json")
    result = asyncio.run(measure(args))
    print(f"\n{'mode':11} {'criterion':10} {'max N':>6} {'cpu there':>10} {'phones/core':>12}")
    for mode, fig in result["modes"].items():
        for key in ("no_late", "keeps_up"):
            k = fig[key]
            cpu = f"{k['cpu_fraction_there']:.1%}" if k["cpu_fraction_there"] else "-"
            print(f"{mode:11} {key:10} {k['max_peers']:>6} {cpu:>10} {k['phones_per_core']!s:>12}")
    if result["nodes"]:
        print(
            f"\n{'nodes':11} {'criterion':10} {'phones':>6} {'cpu there':>10} "
            f"{'phones/core':>12}  per node"
        )
        for count, fig in result["nodes"].items():
            for key in ("no_late", "keeps_up"):
                k = fig[key]
                cpu = f"{k['cpu_fraction_there']:.1%}" if k["cpu_fraction_there"] else "-"
                there = next((s for s in fig["steps"] if s["peers"] == k["max_peers"]), None)
                each = (
                    ", ".join(f"{n['cpu_fraction']:.1%}" for n in there["nodes"]) if there else "-"
                )
                sink = f"{there['sink_cpu_fraction']:.0%}" if there else "-"
                print(
                    f"{count:11} {key:10} {k['max_peers']:>6} {cpu:>10} "
                    f"{k['phones_per_core']!s:>12}  cpu {each}, sink {sink}"
                )
        print(f"against 1 node: {result['nodes_over_one']}")
    print(f"ours / stock phones per core: {result['ours_over_stock']} (target ≥ 2)")
    print(f"ours / ours-before phones per core: {result['ours_over_before']}")
    print("targets (issue 17): keeps up ≥ 600 phones/core, no late frame ≥ 300 phones/core")
    if result["quality"]:
        q = result["quality"]
        print(f"late join (connected → first decoded frame): {q['late_join_s']} s")
        print(f"switch: {q['switch']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
