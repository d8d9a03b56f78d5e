"""A frame to many peers in chunks at the pace of a keyframe, on the event loop."""

from __future__ import annotations

import asyncio

import pytest

from mobile_bridge.film.pacing import Pacing
from mobile_bridge.film.packet import FilmPacket
from mobile_bridge.film.spread import MAX_STEP_S, Spread

SLOT_S = 0.0005  # per peer: 8 ms between chunks of 16


class FixedPace(Pacing):
    def __init__(self, slot: float) -> None:
        super().__init__()
        self.slot = slot
        self.seen: list[tuple[float, int, int]] = []

    def keyframe(self, size: int) -> None:
        pass

    def observe(self, seconds: float, size: int, peers: int, *, keyframe: bool) -> None:
        self.seen.append((seconds, size, peers))


def frame(size: int, keyframe: bool = False) -> FilmPacket:
    return FilmPacket(b"\x00\x00\x01\x65" + bytes(size), 0, video=True, keyframe=keyframe)


@pytest.mark.asyncio
async def test_chunks_go_out_one_slot_apart_in_order_and_each_frame_is_timed_once():
    loop = asyncio.get_running_loop()
    sent: list[tuple[float, FilmPacket, list[object]]] = []
    pacing = FixedPace(SLOT_S)
    spread = Spread(pacing, chunk=16, send=lambda f, peers: sent.append((loop.time(), f, peers)))
    peers: list[object] = [f"peer{i}" for i in range(40)]
    start = loop.time()
    first, second = frame(40_000, keyframe=True), frame(2_000)
    spread(first, peers)
    assert [p for _, _, p in sent] == [peers[:16]]  # the first chunk at once
    pacing.slot = SLOT_S / 4  # the slot shrinks: the second frame's chunks wait anyway
    spread(second, peers)
    async with asyncio.timeout(5):
        while len(sent) < 6:
            await asyncio.sleep(0.005)
    times = {(id(f), tuple(p)): t - start for t, f, p in sent}
    chunks = [tuple(peers[i : i + 16]) for i in (0, 16, 32)]
    for index, chunk in enumerate(chunks):
        assert times[(id(first), chunk)] >= index * 16 * SLOT_S - 1e-3
        assert times[(id(second), chunk)] >= times[(id(first), chunk)]  # per peer, in order
    assert sorted(p for _, _, p in pacing.seen) == [40, 40]  # one fit point per frame
    assert {s for _, s, _ in pacing.seen} == {len(first.data), len(second.data)}
    assert spread.chunks_sent == 6


@pytest.mark.asyncio
async def test_no_pace_yet_sends_every_chunk_at_once_and_cancel_drops_what_waits():
    sent: list[list[object]] = []
    spread = Spread(FixedPace(0.0), chunk=16, send=lambda f, peers: sent.append(peers))
    spread(frame(2_000), [object() for _ in range(40)])
    assert [len(p) for p in sent] == [16, 16, 8]
    slow = Spread(FixedPace(1.0), chunk=16, send=lambda f, peers: sent.append(peers))
    slow(frame(2_000), [object() for _ in range(40)])  # steps capped at MAX_STEP_S
    slow.cancel()
    await asyncio.sleep(3 * MAX_STEP_S)
    assert len(sent) == 4  # only the new frame's first chunk went
