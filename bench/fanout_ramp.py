"""The fan-out benchmark's ramp (`bench/fanout.py`): receivers connected a batch at a
time, then one measured step, at each N; and the same ramp over node processes.

A step's figures say what the server (or all nodes together) spent and sent, what the
receivers got, and whether it **keeps up** (no frame behind, ≥ 99 % of the frames due
sent) and is **ok** (no late frame either); `bench/fanout.py`'s docstring defines them.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from aiortc import RTCPeerConnection
from aiortc.mediastreams import MediaStreamTrack
from fanout_node import answer_offer
from fanout_sink import FRAME_S
from fanout_watch import GcWatch, SendWatch

HERE = Path(__file__).parent
BATCH = 25  # receivers offered and answered per round trip


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


Answer = Callable[[list[str]], Awaitable[list[str]]]  # a batch of offers -> their answers


async def connect(sink: Child, count: int, answer: Answer) -> tuple[int, float]:
    """Connect ``count`` more receivers, a batch at a time; returns (failed, seconds it took)."""
    started = time.monotonic()
    failed = 0
    while count > 0:
        batch = min(BATCH, count)
        count -= batch
        offers = (await sink.call(op="offer", n=batch))["offers"]
        reply = await sink.call(op="answer", sdps=await answer(offers))
        failed += reply["failed"]
    return failed, time.monotonic() - started


def answered_here(tracks: Tracks, pcs: list[RTCPeerConnection]) -> Answer:
    """Offers answered by this process, each peer sending ``tracks()``."""

    async def answer(offers: list[str]) -> list[str]:
        return [await answer_offer(offer, tracks(), pcs) for offer in offers]

    return answer


def dealt_to(nodes: Sequence[Child]) -> Answer:
    """Offers answered by the node processes, dealt to them in turn."""
    dealt = 0

    async def answer(offers: list[str]) -> list[str]:
        nonlocal dealt
        where = [(dealt + k) % len(nodes) for k in range(len(offers))]
        dealt += len(offers)
        parts = await asyncio.gather(
            *(
                node.call(
                    op="answer", sdps=[o for o, w in zip(offers, where, strict=True) if w == i]
                )
                for i, node in enumerate(nodes)
            )
        )
        answers = [iter(part["answers"]) for part in parts]
        return [next(answers[w]) for w in where]

    return answer


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
            failed, connect_s = await connect(sink, n - len(pcs), answered_here(tracks, pcs))
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
        deal, dealt = dealt_to(nodes), 0
        for n in steps:
            if time.monotonic() > deadline:
                print(f"  {mode}: time budget spent before N={n}")
                break
            failed, connect_s = await connect(sink, n - dealt, deal)
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
