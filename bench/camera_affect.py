"""Benchmark of server-side camera analysis: per-stage cost, phones per core, latency.

Run with ``.venv/bin/python bench/camera_affect.py [--seconds S] [--phones N] [--out FILE]``.
Prints the figures and writes them as JSON (default ``bench/results/camera_affect.json``);
takes about a minute. Target (issue "Audience affect"): at least 60 phones per core
analysed at 2 frames a second.

Three parts:

1. **Stages**, in this process, on 320×240 frames of the astronaut (a smiling face, with
   σ≈2 sensor noise per frame): H.264 decode (aiortc decodes every camera frame a phone
   sends), frame → RGB array and skin colour (the event loop's share, per camera frame),
   landmarks, crop, classifier, and the whole `ViewerAnalysis.analyse` for a *still*
   viewer (the mesh reused while the face does not change) and a *moving* one (the face
   sways by a few pixels every frame: landmarks on every analysed frame, the worst case).
2. **Pool**: `server.affect_workers.AffectWorkers` with one worker process and
   ``--phones`` simulated phones, each sending 16 frames a second (``camera_fps``) of
   which 2 are analysed, in real time; the worker's and this process's CPU are read
   from ``/proc``. Phones per core = phones / (worker CPU + event-loop CPU, in cores).
3. **Latency**: camera frame handed to the sink → the room's mood recomputed with the
   sample and fed to its `Screening` (what the room does with it: the phone's sample
   goes into the room's `LiveMood`, the aggregate reaches the screening as a `RoomMood`),
   over the pool run's frames.

``--smoke`` runs each part for a moment (a few calls per stage, 2 phones for 1 s), to
check that it works; its figures mean nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image
from skimage import data

from affect.face_crop import grey_crop
from affect.landmarks import Landmarker
from affect.rppg import mean_rgb
from affect.viewer import ViewerAnalysis
from narrative.events import Join, RoomMood
from narrative.ids import DeviceId
from narrative.mood import LiveMood, Sample
from narrative.policies import policy_from_spec
from narrative.screening import Screening
from narrative.story import Story
from server.affect_workers import AffectWorkers, to_rgb

CAMERA_FPS = 16.0
ANALYSE_FPS = 2.0
SEND_FPS = 15.0  # what a phone's 320×240 camera track carries (each one decoded)


def face_frames(n: int, *, sway_px: float) -> list[av.VideoFrame]:
    """``n`` decoded-like (yuv420p) 320×240 frames of the astronaut, noisy, swaying."""
    base = np.asarray(Image.fromarray(data.astronaut()).resize((400, 300)), dtype=np.int16)
    rng = np.random.default_rng(0)
    frames = []
    for i in range(n):
        dx = round(40 + sway_px * np.sin(2 * np.pi * i / 7.3))  # not in step with analysis
        picture = base[30:270, dx : dx + 320] + rng.integers(-2, 3, (240, 320, 3))
        rgb = np.ascontiguousarray(np.clip(picture, 0, 255).astype(np.uint8))
        frames.append(av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p"))
    return frames


def per_call_ms(fn, n: int) -> float:
    fn()
    started = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - started) / n * 1e3


def h264_decode_ms(frames: list[av.VideoFrame]) -> float | None:
    try:
        encoder = av.CodecContext.create("libx264", "w")
    except (av.FFmpegError, ValueError):
        return None
    encoder.width, encoder.height, encoder.pix_fmt = 320, 240, "yuv420p"
    encoder.time_base = Fraction(1, 30)
    encoder.options = {"preset": "veryfast", "tune": "zerolatency"}
    packets = []
    for i, frame in enumerate(frames):
        frame.pts = i
        packets.extend(encoder.encode(frame))
    packets.extend(encoder.encode(None))
    decoder = av.CodecContext.create("h264", "r")
    started = time.process_time()
    decoded = 0
    for packet in packets:
        decoded += len(decoder.decode(packet))
    return (time.process_time() - started) / max(decoded, 1) * 1e3


def analyse_ms(landmarker: Landmarker, frames: list[av.VideoFrame], n: int) -> tuple[float, float]:
    """Mean CPU ms per analysed frame at 2 fps, and the share that ran the landmarker."""
    viewer = ViewerAnalysis(landmarker, classifier())
    rgbs = [to_rgb(f) for f in frames]
    for i in range(4):  # warm up: calibration, first mesh
        viewer.analyse(rgbs[i % len(rgbs)], at=i / ANALYSE_FPS)
    runs = viewer.landmarker_runs
    started = time.process_time()
    for i in range(4, 4 + n):
        viewer.analyse(rgbs[i % len(rgbs)], at=i / ANALYSE_FPS)
    cpu = (time.process_time() - started) / n * 1e3
    return cpu, (viewer.landmarker_runs - runs) / n


def classifier():  # the expression model when one was exported (`make fer-model`)
    from affect.expressions import ExpressionClassifier

    path = Path(os.environ.get("KINOROOM_FER_MODEL", ".kinoroom/models/fer.onnx"))
    return ExpressionClassifier(path) if path.is_file() else None


def stages(
    still: list[av.VideoFrame], moving: list[av.VideoFrame], scale: float = 1.0
) -> dict[str, object]:
    def n(calls: int) -> int:
        return max(2, int(calls * scale))

    rgb = to_rgb(still[0])
    with Landmarker() as landmarker:
        mesh = landmarker.detect(rgb)
        assert mesh is not None, "the astronaut has a face"
        viewer = ViewerAnalysis(landmarker)
        viewer.analyse(rgb, 0.0)
        patches = viewer.patches
        fer = classifier()
        crop = grey_crop(rgb, mesh.points_px)
        figures: dict[str, object] = {
            "h264_decode_ms": h264_decode_ms(still[:60]),
            "to_rgb_ms": per_call_ms(lambda: to_rgb(still[1]), n(2000)),
            "skin_colour_ms": per_call_ms(lambda: mean_rgb(rgb, patches), n(2000)),
            "landmarks_ms": per_call_ms(lambda: landmarker.detect(rgb), n(100)),
            "crop_ms": per_call_ms(lambda: grey_crop(rgb, mesh.points_px), n(500)),
            "classifier_ms": per_call_ms(lambda: fer.classify(crop), n(500)) if fer else None,
            "classifier_loaded": fer is not None,
        }
        figures["analyse_still_ms"], figures["landmarked_share_still"] = analyse_ms(
            landmarker, still, n(120)
        )
        figures["analyse_moving_ms"], figures["landmarked_share_moving"] = analyse_ms(
            landmarker, moving, n(60)
        )
    return figures


def modelled_phones_per_core(s: dict[str, object], analyse_key: str) -> float:
    """1 / CPU seconds a phone costs per second: analysis, the loop's share, decoding."""
    loop_ms = CAMERA_FPS * (float(s["to_rgb_ms"]) + float(s["skin_colour_ms"]))  # type: ignore[arg-type]
    decode_ms = SEND_FPS * float(s["h264_decode_ms"] or 0.0)  # type: ignore[arg-type]
    per_phone_ms = ANALYSE_FPS * float(s[analyse_key]) + loop_ms + decode_ms  # type: ignore[arg-type]
    return 1000.0 / per_phone_ms


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def pool_run(
    frames: list[av.VideoFrame], phones: int, seconds: float, decode_ms: float
) -> dict[str, object]:
    screening = Screening(bench_story(), policy_from_spec({"name": "mood"}))
    live = LiveMood()  # the room's per-phone samples (`server.rooms.room.Room` keeps one)
    present = [f"phone-{i}" for i in range(phones)]
    latencies: list[float] = []

    def deliver(device: str, sample: Sample) -> None:
        now = time.monotonic()  # the bench's room clock: the samples are stamped with it
        live.add(Sample(DeviceId(device), sample.valence, sample.arousal, sample.engagement, now))
        screening.handle(RoomMood.of(live.reading(now, present=present), now))
        latencies.append(time.monotonic() - sample.at)  # at: when the sink got the frame

    for device in present:
        screening.handle(Join(DeviceId(device), 0.0))
    pool = AffectWorkers(deliver, workers=1, analyse_fps=ANALYSE_FPS)
    loop = asyncio.get_running_loop()
    # Start the worker (spawn, model load) before measuring.
    while pool.counts.analysed == 0:  # the first frames only start numpy's import
        pool.sink("warm-up", frames[0])
        await asyncio.sleep(0.05)
    pid = next(iter(pool._executors[0]._processes))  # type: ignore[attr-defined]
    latencies.clear()
    before = pool.counts.analysed, pool.counts.skipped, pool.counts.landmarked
    worker0, main0, wall0 = cpu_s(pid), time.process_time(), loop.time()
    tick = 1 / CAMERA_FPS
    n = 0
    while (elapsed := loop.time() - wall0) < seconds:
        frame = frames[n % len(frames)]
        for i in range(phones):
            if n >= i % 8:  # phones start apart, as real ones do: analyses not all at once
                pool.sink(f"phone-{i}", frame)
        n += 1
        await asyncio.sleep(max(0.0, n * tick - (loop.time() - wall0)))
    worker = cpu_s(pid) - worker0
    main = time.process_time() - main0
    analysed = pool.counts.analysed - before[0]
    skipped = pool.counts.skipped - before[1]
    landmarked = pool.counts.landmarked - before[2]
    await pool.close()
    cores = (worker + main) / elapsed
    decode = phones * SEND_FPS * decode_ms / 1e3  # aiortc's share, not in this run
    latencies.sort()
    return {
        "phones": phones,
        "seconds": round(elapsed, 2),
        "analysed_per_phone_s": analysed / phones / elapsed,
        "skipped_share": skipped / max(1, analysed + skipped),
        "landmarked_share": landmarked / max(1, analysed),
        "worker_cores": worker / elapsed,
        "event_loop_cores": main / elapsed,
        "phones_per_core": phones / cores if cores else None,
        "phones_per_core_with_h264_decode": phones / (cores + decode) if cores else None,
        "latency_ms_p50": 1e3 * latencies[len(latencies) // 2] if latencies else None,
        "latency_ms_p95": 1e3 * latencies[int(len(latencies) * 0.95)] if latencies else None,
        "latency_ms_max": 1e3 * latencies[-1] if latencies else None,
    }


def bench_story() -> Story:
    return Story.model_validate(
        {
            "kinoroom": 1,
            "title": "bench",
            "start": "s",
            "scenes": {"s": {"media": "m", "duration": 3600, "ending": True}},
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="each pool run")
    parser.add_argument("--phones", type=int, default=0, help="pool run size (0: modelled)")
    parser.add_argument("--out", type=Path, default=Path("bench/results/camera_affect.json"))
    parser.add_argument("--smoke", action="store_true", help="a moment of each part: does it work?")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.phones = 1.0, 2
    still = face_frames(32, sway_px=0.0)
    moving = face_frames(32, sway_px=6.0)
    s = stages(still, moving, scale=0.02 if args.smoke else 1.0)
    print("per-stage CPU cost (ms):")
    for key, value in s.items():
        print(f"  {key:26} {value if not isinstance(value, float) else round(value, 3)}")
    modelled = {
        "still": modelled_phones_per_core(s, "analyse_still_ms"),
        "moving": modelled_phones_per_core(s, "analyse_moving_ms"),
    }
    print(f"modelled phones per core at 2 fps: still {modelled['still']:.0f}, "
          f"moving {modelled['moving']:.0f}")  # fmt: skip
    decode_ms = float(s["h264_decode_ms"] or 0.0)  # type: ignore[arg-type]
    runs = {}
    for name, frames in (("still", still), ("moving", moving)):
        n = args.phones or max(1, int(modelled[name] * 0.8))
        runs[name] = asyncio.run(pool_run(frames, n, args.seconds, decode_ms))
        r = runs[name]
        print(
            f"pool, {name} faces, {r['phones']} phones for {r['seconds']} s: "
            f"{r['analysed_per_phone_s']:.2f} analyses/phone/s, "
            f"worker {r['worker_cores']:.2f} + loop {r['event_loop_cores']:.2f} cores "
            f"→ {r['phones_per_core']:.0f} phones/core "
            f"({r['phones_per_core_with_h264_decode']:.0f} with H.264 decode); "
            f"skipped {r['skipped_share']:.1%}, landmarked {r['landmarked_share']:.0%}; "
            f"frame→room mood p50 {r['latency_ms_p50']:.1f} ms, p95 {r['latency_ms_p95']:.1f} ms"
        )
    result = {
        "machine": {"python": platform.python_version(), "cores": os.cpu_count()},
        "command": " ".join(["python", *sys.argv]),
        "camera_fps": CAMERA_FPS,
        "analyse_fps": ANALYSE_FPS,
        "stages": s,
        "modelled_phones_per_core": modelled,
        "pool": runs,
        "smoke": args.smoke,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
