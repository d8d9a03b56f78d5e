"""Benchmark of the montage backend: seconds to make one second of clip (real-time factor).

Run with ``.venv/bin/python bench/montage.py [--seconds 20] [--repeat 3] [--media DIR]
[--out FILE]``. Prints the figures and writes them as JSON (default
``bench/results/montage.json``).

The job is the demo story's ``tunnel`` fill-in as a room would submit it: its prompt,
title card and sources (three clips of the demo film), the story's style anchor
(references, grain, pacing, threshold), ``--seconds`` long, once for the room's usual
profile (360p + 720p) and once for phones only (360p). Clips come from the demo film in
``--media`` (default ``.kinoroom/media``, made by ``kinoroom film demo``); when it is not
there the demo film is made in a temporary folder first (about a minute).

Each profile runs once cold (the style anchor is measured from the references) and then
``--repeat`` times warm (anchor cached, as for every job after a room's first); the
figure is the median warm run's wall time divided by the clip's length, with its CPU
time (all threads: x264 encodes on several) and the provenance's per-stage seconds
(decode, style, compose, encode) beside it. Below 1 a worker makes clips faster than
they play.

``--smoke`` makes one 2 s clip per profile, with one warm run, from a demo film cut down
to the clips the job reads (made in a temporary folder, a few seconds each), to check
that it works; its figures mean nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

from genmodels.backend import JobContext, WorkerConfig
from genmodels.jobs import Job
from genmodels.montage import MontageBackend
from mobile_bridge.demo_film import generate_demo_film
from mobile_bridge.media.manifest import Manifest
from mobile_bridge.media.renditions import parse_renditions
from narrative.stories import DEMO
from narrative.story import Story
from narrative.validate import load_story

ROOT = Path(__file__).resolve().parent.parent
PROFILES = (("360p", "720p"), ("360p",))


def demo_media(media: Path, story: Story, *, smoke: bool = False) -> Path:
    """``media`` when it holds the demo film's clips in both renditions, else a temp copy
    (``smoke``: always a temp copy of only the clips the job reads, 3 s each)."""
    scene = story.scenes["tunnel"]
    assert scene.generate is not None and story.style is not None
    wanted = {*scene.generate.sources, *story.style.references}
    have = Manifest.load(media).media if media.is_dir() and not smoke else {}
    if all(m in have and {"360p", "720p"} <= set(have[m].renditions) for m in wanted):
        return media
    made = Path(tempfile.mkdtemp(prefix="kinoroom-bench-media-"))
    print(f"no demo film in {media}: making one in {made} ...", flush=True)
    began = time.perf_counter()
    film = story
    if smoke:  # the scenes whose clips the job reads, short: only their media matter here
        scenes = {
            k: s.model_copy(update={"duration": 3.0, "variants": []})
            for k, s in story.scenes.items()
            if s.media in wanted
        }
        film = story.model_copy(update={"scenes": scenes})
    generate_demo_film(film, made, parse_renditions("360p,720p"))
    print(f"demo film made in {time.perf_counter() - began:.0f} s", flush=True)
    return made


def tunnel_job(story: Story, seconds: float, renditions: tuple[str, ...], seed: int) -> Job:
    scene = story.scenes["tunnel"]
    assert scene.generate is not None
    return Job(
        room="BENCH",
        scene="tunnel",
        backend="montage",
        prompt=scene.generate.prompt,
        duration_s=seconds,
        seed=seed,
        deadline=time.time() + 3600,
        sources=tuple(scene.generate.sources),
        title=scene.generate.title,
        style=story.style,
        renditions=renditions,
    )


def run_profile(
    backend: MontageBackend,
    media: Path,
    story: Story,
    seconds: float,
    repeat: int,
    profile: tuple[str, ...],
) -> dict[str, object]:
    context = JobContext(media, lambda fraction, stage: None, "bench")
    runs = []
    for seed in range(repeat + 1):  # the first is cold: it measures the style anchor
        began, cpu = time.perf_counter(), time.process_time()
        output = backend.run(tunnel_job(story, seconds, profile, seed), context)
        runs.append((time.perf_counter() - began, time.process_time() - cpu, output.provenance))
    cold_s = runs[0][0]
    warm = sorted(runs[1:], key=lambda run: run[0])
    median_s, cpu_s, provenance = warm[len(warm) // 2]
    stages = ", ".join(f"{k} {v:.2f} s" for k, v in provenance.timings.items())
    print(
        f"montage {'+'.join(profile)}: {median_s / seconds:.3f} s per second of clip, "
        f"{cpu_s / seconds:.3f} CPU s (cold, measuring the style anchor: "
        f"{cold_s / seconds:.3f} s); {seconds:.0f} s clip: {stages}; "
        f"style score {provenance.style_score}",
        flush=True,
    )
    return {
        "renditions": list(profile),
        "clip_s": seconds,
        "seconds_per_clip_second": round(median_s / seconds, 3),
        "cpu_seconds_per_clip_second": round(cpu_s / seconds, 3),
        "cold_seconds_per_clip_second": round(cold_s / seconds, 3),
        "wall_s": [round(run[0], 2) for run in runs[1:]],
        "cpu_s": [round(run[1], 2) for run in runs[1:]],
        "stages_s": provenance.timings,
        "style_score": provenance.style_score,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each clip made")
    parser.add_argument("--repeat", type=int, default=3, help="warm runs per profile")
    parser.add_argument("--media", type=Path, default=ROOT / ".kinoroom" / "media")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "montage.json")
    parser.add_argument("--smoke", action="store_true", help="one short clip: does it work?")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.repeat = 2.0, 1

    story = load_story(DEMO.read_text(encoding="utf-8"), str(DEMO))
    media = demo_media(args.media, story, smoke=args.smoke)
    work = media  # a temporary folder either way: removed at the end
    if media == args.media:  # write the bench's clips beside links to the film, not into it
        work = Path(tempfile.mkdtemp(prefix="kinoroom-bench-montage-"))
        manifest = Manifest.load(media)
        for entry in manifest.media.values():
            for rendition in entry.renditions.values():
                (work / rendition.path).parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(media / rendition.path, work / rendition.path)
                except OSError:  # another file system
                    shutil.copyfile(media / rendition.path, work / rendition.path)
        manifest.save(work)
    try:
        backend = MontageBackend(WorkerConfig(work))
        results = [
            run_profile(backend, work, story, args.seconds, args.repeat, profile)
            for profile in PROFILES
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = {
        "benchmark": "montage",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cores": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),  # others' work skews wall times
        "media": str(media),
        "profiles": results,
        "smoke": args.smoke,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"load average over the last minute: {result['load_average_1m']}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
