"""Holding frames so a keyframe's long pass over the peers leaves every frame on time (pure)."""

from __future__ import annotations

import random

import pytest

from mobile_bridge.film.pacing import Pacing

FRAME_S = 1 / 30
FIXED_S, PER_BYTE_S = 25e-6, 3e-9  # a pass's cost per peer: fixed plus per byte of frame


def sizes(seconds: int, seed: int = 1) -> list[tuple[int, bool]]:
    """(bytes, keyframe) of a 30-fps film: 1-s GOPs, keyframes 7-51 KB, frames 1-5 KB."""
    rng = random.Random(seed)
    return [
        (rng.randint(7_000, 51_000), True) if i % 30 == 0 else (rng.randint(1_000, 5_000), False)
        for i in range(seconds * 30)
    ]


def cost(size: int, rng: random.Random | None = None) -> float:
    """One peer's share of a pass; with ``rng``, now and then the box is busy elsewhere."""
    spike = rng.expovariate(1 / 30e-6) if rng and rng.random() < 0.05 else 0.0
    return FIXED_S + PER_BYTE_S * size + spike


def play(peers: int, pacing: Pacing | None, *, noise: bool = False) -> float:
    """Play 20 s to ``peers`` peers in one sequential pass per frame, as the fan-out does
    (learning as the reader does when ``pacing`` is given): the most any peer's frame of
    the last 10 s leaves after that peer's earliest offset (late when over a frame
    interval, as a phone sees it).
    """
    rng = random.Random(3) if noise else None
    busy_until, offsets = 0.0, [[] for _ in range(peers)]
    for i, (size, keyframe) in enumerate(sizes(20, seed=2)):
        due = i * FRAME_S
        start = max(due + (pacing.hold(size, peers) if pacing else 0.0), busy_until)
        t = start
        for peer in range(peers):
            t += cost(size, rng)
            if i >= 300:
                offsets[peer].append(t - due)
        busy_until = t
        if pacing:
            pacing.observe(t - start, size, peers, keyframe=keyframe)
    return max(max(o) - min(o) for o in offsets)


def test_nothing_is_held_before_a_keyframe_and_a_frame_were_measured():
    pacing = Pacing()
    assert pacing.hold(2_000, 500) == 0.0
    for _ in range(5):
        pacing.observe(0.01, 3_000, 100, keyframe=False)
    assert pacing.hold(2_000, 500) == 0.0
    pacing.observe(0.03, 40_000, 100, keyframe=True)
    assert pacing.hold(2_000, 500) > 0.0


def test_frames_are_held_by_half_of_what_the_largest_keyframe_costs_more():
    pacing = Pacing()
    for size, keyframe in sizes(5):
        pacing.observe(300 * cost(size), size, 300, keyframe=keyframe)
    biggest = max(size for size, keyframe in sizes(5) if keyframe)
    assert 0.95 * biggest < pacing.high <= biggest
    assert pacing.per_byte_s == pytest.approx(PER_BYTE_S, rel=0.01)
    expected = 300 * PER_BYTE_S * (pacing.high - 2_000) / 2
    assert pacing.hold(2_000, 300) == pytest.approx(expected, rel=0.01)
    assert pacing.hold(round(pacing.high) + 1, 300) == 0.0  # the biggest keyframe: when due
    assert pacing.hold(2_000, 3_000) == FRAME_S  # never more than a frame interval


def test_an_estimate_moves_only_when_it_moves_far():
    pacing = Pacing()
    for size, keyframe in sizes(5):
        pacing.observe(300 * cost(size), size, 300, keyframe=keyframe)
    hold = pacing.hold(2_000, 300)
    for size, keyframe in sizes(3):  # a 20 % dearer box: within the hysteresis
        pacing.observe(1.2 * 300 * cost(size), size, 300, keyframe=keyframe)
    assert pacing.hold(2_000, 300) == pytest.approx(hold, rel=0.02)  # high's slow decay
    for size, keyframe in sizes(20, seed=6):  # twice as dear: new estimates
        pacing.observe(2 * 300 * cost(size), size, 300, keyframe=keyframe)
    assert pacing.hold(2_000, 300) > 1.5 * hold


@pytest.mark.parametrize("peers", [250, 300, 350])
def test_holding_keeps_every_peers_frames_within_a_frame_interval(peers):
    flat_out = play(peers, None)
    assert flat_out > FRAME_S  # a keyframe's pass alone makes the last peers late
    for noise in (False, True):
        paced = play(peers, Pacing(), noise=noise)
        assert paced < FRAME_S
        assert paced < 0.7 * flat_out  # about half: the keyframe's extra time is centred
