"""Holding frames so a keyframe's long pass over the peers leaves every frame on time (pure)."""

from __future__ import annotations

import random

import pytest

from mobile_bridge.film.pacing import Pacing

FRAME_S = 1 / 30
FIXED_S, PER_BYTE_S = 4e-6, 1.5e-9  # a pass's cost per peer: fixed plus per byte of frame


def sizes(seconds: int, seed: int = 1) -> list[tuple[int, bool]]:
    """(bytes, keyframe) of a 30-fps film: 1-s GOPs, keyframes 7-51 KB, frames 1-5 KB."""
    rng = random.Random(seed)
    return [
        (rng.randint(7_000, 51_000), True) if i % 30 == 0 else (rng.randint(1_000, 5_000), False)
        for i in range(seconds * 30)
    ]


def trained(peers: int, seconds: int = 5) -> Pacing:
    pacing = Pacing()
    for size, keyframe in sizes(seconds):
        pacing.observe(peers * (FIXED_S + PER_BYTE_S * size), size, peers, keyframe=keyframe)
    return pacing


def worst_lateness(peers: int, pacing: Pacing | None) -> float:
    """Play 20 s to ``peers`` peers in one sequential pass per frame, as the fan-out does
    (learning as the reader does when ``pacing`` is given): the most any peer's frame
    leaves after that peer's earliest offset, over the last 10 s (what a phone sees).
    """
    busy_until, offsets = 0.0, [[] for _ in range(peers)]
    for i, (size, keyframe) in enumerate(sizes(20, seed=2)):
        due = i * FRAME_S
        start = max(due + (pacing.hold(size, peers) if pacing else 0.0), busy_until)
        t = start
        for peer in range(peers):
            t += FIXED_S + PER_BYTE_S * size
            if i >= 300:
                offsets[peer].append(t - due)
        busy_until = t
        if pacing:
            pacing.observe(t - start, size, peers, keyframe=keyframe)
    return max(max(o) - min(o) for o in offsets)


def test_nothing_is_held_before_passes_of_different_sizes_were_seen():
    pacing = Pacing()
    assert pacing.hold(2_000, 500) == 0.0
    for _ in range(50):
        pacing.observe(0.01, 3_000, 100, keyframe=False)
    assert pacing.per_byte_s == 0.0 and pacing.hold(2_000, 500) == 0.0


def test_the_cost_of_a_byte_is_learnt_and_frames_are_held_by_half_the_keyframes_extra():
    pacing = trained(peers=300)
    assert pacing.per_byte_s == pytest.approx(PER_BYTE_S, rel=1e-3)
    biggest = max(size for size, keyframe in sizes(5) if keyframe)
    assert 0.9 * biggest < pacing.high <= biggest  # the largest recent keyframe
    assert pacing.hold(2_000, 300) == pytest.approx(300 * PER_BYTE_S * (pacing.high - 2_000) / 2)
    assert pacing.hold(round(pacing.high) + 1, 300) == 0.0  # the biggest keyframe: when due
    assert pacing.hold(2_000, 3_000) == FRAME_S  # never more than a frame interval


def test_a_large_keyframe_is_forgotten_slowly():
    pacing = trained(peers=100)
    high = pacing.high
    for _ in range(10):
        pacing.observe(0.001, 8_000, 100, keyframe=True)
    assert 8_000 < pacing.high < high


@pytest.mark.parametrize("peers", [500, 600, 700])
def test_holding_keeps_every_peers_frames_within_a_frame_interval(peers):
    unpaced = worst_lateness(peers, None)
    paced = worst_lateness(peers, Pacing())
    assert unpaced > FRAME_S  # a keyframe's pass alone makes the last peers late
    assert paced < FRAME_S
    assert paced < 0.65 * unpaced  # about half: the keyframe's extra time is centred
