"""The pace of a pass over the peers: every frame on time for every peer (pure)."""

from __future__ import annotations

import heapq
import random

import pytest

from mobile_bridge.film.pacing import Pacing
from mobile_bridge.film.spread import CHUNK, MAX_STEP_S

FRAME_S = 1 / 30
FIXED_S, PER_BYTE_S = 8e-6, 3e-9  # a frame's cost for one peer: fixed plus per byte


def sizes(seconds: int, seed: int = 1) -> list[tuple[int, bool]]:
    """(bytes, keyframe) of a 30-fps film: 1-s GOPs, keyframes 7-51 KB, frames 1-5 KB."""
    rng = random.Random(seed)
    return [
        (rng.randint(7_000, 51_000), True) if i % 30 == 0 else (rng.randint(1_000, 5_000), False)
        for i in range(seconds * 30)
    ]


def cost(size: int) -> float:
    return FIXED_S + PER_BYTE_S * size


def trained(peers: int, seconds: int = 5) -> Pacing:
    pacing = Pacing()
    for size, keyframe in sizes(seconds):
        if keyframe:
            pacing.keyframe(size)
        pacing.observe(peers * cost(size), size, peers)
    return pacing


def worst_lateness(peers: int, pacing: Pacing | None) -> float:
    """Play 20 s to ``peers`` peers on one event loop, chunk by chunk as `Spread` does
    (flat out without ``pacing``, learning as it goes with it), and return the most any
    peer's frame of the last 10 s left after that peer's earliest offset: a late frame
    on a phone when over a frame interval.
    """
    chunks: list[tuple[float, int, int, int, bool]] = []  # (ready, frame, first peer, size)
    last: dict[int, float] = {}
    for f, (size, keyframe) in enumerate(sizes(20, seed=2)):
        step = min(pacing.slot_s(peers) * CHUNK, MAX_STEP_S) if pacing else 0.0
        if pacing and keyframe:
            pacing.keyframe(size)
        for j, first in enumerate(range(0, peers, CHUNK)):
            ready = last[j] = max(f * FRAME_S + j * step, last.get(j, -1.0) + 1e-6)
            heapq.heappush(chunks, (ready, f, first, size, keyframe))
        # the chunks ready before the next frame is due run now, in time order
        busy = run_until(chunks, (f + 1) * FRAME_S, peers, pacing)
    busy = run_until(chunks, float("inf"), peers, pacing)
    return max(max(o) - min(o) for o in busy.values())


_cpu = [0.0]


def run_until(chunks, until, peers, pacing, offsets: dict[int, list[float]] | None = None):
    offsets = offsets if offsets is not None else run_until.offsets
    while chunks and chunks[0][0] < until:
        ready, f, first, size, _ = heapq.heappop(chunks)
        t = start = max(ready, _cpu[0])
        count = min(CHUNK, peers - first)
        for peer in range(first, first + count):
            t += cost(size)
            if f >= 300:
                offsets.setdefault(peer, []).append(t - f * FRAME_S)
        _cpu[0] = t
        if pacing:
            pacing.observe(t - start, size, count)
    return offsets


run_until.offsets = {}


def lateness(peers: int, pacing: Pacing | None) -> float:
    _cpu[0] = 0.0
    run_until.offsets = {}
    return worst_lateness(peers, pacing)


def test_no_pace_before_sends_of_different_sizes_were_seen():
    pacing = Pacing()
    assert pacing.slot_s(500) == 0.0
    for _ in range(50):
        pacing.observe(0.01, 3_000, 100)
    assert pacing.per_byte_s == 0.0 and pacing.slot_s(500) == 0.0


def test_the_cost_of_a_frame_is_learnt_and_the_slot_is_the_largest_keyframes():
    pacing = trained(peers=300)
    assert pacing.per_byte_s == pytest.approx(PER_BYTE_S, rel=1e-3)
    assert pacing.cost_s(2_000) == pytest.approx(cost(2_000), rel=1e-3)
    biggest = max(size for size, keyframe in sizes(5) if keyframe)
    assert 0.9 * biggest < pacing.high <= biggest  # the largest recent keyframe
    pacing.keyframe(1_000)  # the slot is set at a keyframe
    assert pacing.slot_s(300) == pytest.approx(pacing.margin * cost(pacing.high), rel=1e-2)
    assert pacing.slot_s(30_000) == pytest.approx(pacing.max_spread_s / 30_000)  # capped


def test_a_large_keyframe_is_forgotten_slowly():
    pacing = trained(peers=100)
    high = pacing.high
    for _ in range(10):
        pacing.keyframe(8_000)
    assert 8_000 < pacing.high < high


@pytest.mark.parametrize("peers", [300, 500, 800])
def test_at_the_keyframes_pace_every_peer_gets_every_frame_within_a_frame_interval(peers):
    flat_out = lateness(peers, None)
    paced = lateness(peers, Pacing())
    assert flat_out > FRAME_S  # a keyframe's pass alone makes the last peers late
    assert paced < FRAME_S / 3
