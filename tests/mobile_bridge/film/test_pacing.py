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


def cost(size: float, rng: random.Random | None = None) -> float:
    """One peer's share of a frame; with ``rng``, now and then the box is busy elsewhere."""
    spike = rng.expovariate(1 / 20e-6) if rng and rng.random() < 0.05 else 0.0
    return FIXED_S + PER_BYTE_S * size + spike


def play(peers: int, pacing: Pacing | None, *, noise: bool = False) -> float:
    """20 s of film to ``peers`` peers on one event loop, chunk by chunk as `Spread` sends
    it (flat out without ``pacing``, learning as it goes with it): the most any peer's
    frame of the last 10 s leaves after that peer's earliest offset (late when over a
    frame interval, as a phone sees it).
    """
    rng = random.Random(3) if noise else None
    chunks: list[tuple[float, int, int]] = []  # (ready, frame, first peer)
    last: dict[int, float] = {}
    film = sizes(20, seed=2)
    offsets: dict[int, list[float]] = {}
    spent: dict[int, float] = {}
    cpu = 0.0
    for f, (size, keyframe) in enumerate(film):
        if pacing and keyframe:
            pacing.keyframe(size)
        step = min(pacing.slot_s(peers) * CHUNK, MAX_STEP_S) if pacing else 0.0
        for j, first in enumerate(range(0, peers, CHUNK)):
            ready = last[j] = max(f * FRAME_S + j * step, last.get(j, -1.0) + 1e-6)
            heapq.heappush(chunks, (ready, f, first))
        while chunks and (chunks[0][0] < (f + 1) * FRAME_S or f == len(film) - 1):
            ready, g, first = heapq.heappop(chunks)
            t = start = max(ready, cpu)
            for peer in range(first, min(first + CHUNK, peers)):
                t += cost(film[g][0], rng)
                if g >= 300:
                    offsets.setdefault(peer, []).append(t - g * FRAME_S)
            cpu = t
            spent[g] = spent.get(g, 0.0) + t - start
            if pacing and first + CHUNK >= peers:  # the frame's last chunk
                pacing.observe(spent[g], film[g][0], peers, keyframe=film[g][1])
    return max(max(o) - min(o) for o in offsets.values())


def test_no_pace_before_a_keyframe_was_measured():
    pacing = Pacing()
    pacing.keyframe(40_000)
    assert pacing.slot_s(500) == 0.0
    pacing.observe(0.01, 3_000, 100, keyframe=False)  # frames say nothing of keyframes
    pacing.keyframe(40_000)
    assert pacing.per_byte_s == 0.0 and pacing.slot_s(500) == 0.0


def test_the_slot_is_the_largest_keyframes_cost_and_moves_only_when_it_moves_far():
    pacing = Pacing()
    for size in (20_000, 51_000):
        pacing.observe(300 * cost(size), size, 300, keyframe=True)
        pacing.keyframe(size)
    assert pacing.high == 51_000
    per_byte = pacing.per_byte_s  # the 75th percentile of two: the higher, the 20-KB one's
    assert per_byte == pytest.approx(cost(20_000) / 20_000)
    assert pacing.slot_s(300) == pytest.approx(pacing.margin * per_byte * 51_000)
    slot = pacing.slot
    pacing.observe(300 * cost(8_000), 8_000, 300, keyframe=True)  # dearer per byte: +18 %
    pacing.keyframe(8_000)
    assert pacing.slot == slot  # within the hysteresis: unchanged
    for _ in range(20):
        pacing.observe(300 * cost(51_000) * 2, 51_000, 300, keyframe=True)  # a busier box
    pacing.keyframe(30_000)
    assert pacing.slot > 1.5 * slot  # twice as dear for 20 keyframes: a new slot
    assert pacing.slot_s(30_000) == pytest.approx(pacing.max_spread_s / 30_000)  # capped


@pytest.mark.parametrize("peers", [300, 500, 800])
def test_at_the_keyframes_pace_every_peer_gets_every_frame_within_a_frame_interval(peers):
    flat_out = play(peers, None)
    assert flat_out > FRAME_S  # a keyframe's pass alone makes the last peers late
    assert play(peers, Pacing()) < FRAME_S / 3
    assert play(peers, Pacing(), noise=True) < FRAME_S / 2  # the box busy now and then
