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
import json
import os
import platform
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import aioice.ice
from aiortc.contrib.media import MediaPlayer, MediaRelay
from aiortc.mediastreams import MediaStreamTrack
from fanout_media import loop_clip, make_clip
from fanout_quality import CLIP_S, watch_quality
from fanout_ramp import HERE, ramp, ramp_nodes
from fanout_sink import FRAME_S
from fanout_watch import SendWatch
from film_before import Film as FilmBefore

from mobile_bridge.film import Film, media_dir_lookup

DEFAULT_STEPS = (10, 25, 50, 100, 150, 200, 250, 300, 400, 500, 600, 800)
SMOKE_STEPS = (4,)


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
