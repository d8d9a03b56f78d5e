"""The fan-out benchmark's quality check (`bench/fanout.py`, ``ours`` only): late join at
three GOP phases and continuity across a branch switch, with decoding receivers."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from pathlib import Path
from typing import Any

import av
from aiortc import RTCPeerConnection
from fanout_ramp import Child, answered_here, connect

from mobile_bridge.film import Film, media_dir_lookup

CLIP_S = 10  # each branch's clip


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
            await connect(sink, 1, answered_here(lambda: film.subscribe("360p"), pcs))
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
