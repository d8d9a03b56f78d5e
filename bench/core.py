"""Benchmark of the pure core: votes/s into a Screening, decisions/s, memory per phone.

Run with ``make bench`` or ``.venv/bin/python bench/core.py [--phones N] [--out FILE]``
(``--smoke``: a few hundred phones, to check that it runs; its figures mean nothing).
Prints the figures and writes them as JSON (default ``bench/results/core.json``).
Target (issue "Story core"): at least 100,000 votes/s on one core with 10,000 phones.

Memory per phone is what a room holds for one: its seat and ballot in the `Screening`
and its latest affect sample in the room's `LiveMood` (the room feeds the screening only
the aggregate, a `RoomMood`, which costs nothing per phone).
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import random
import time
import tracemalloc
from pathlib import Path

from narrative.ballots import Cast, Pick, Ranking
from narrative.consensus import OptionInfo, VoteContext, decide
from narrative.events import Join, RoomMood, Start, Tick, VoteCast
from narrative.ids import ChoiceId, DeviceId, OptionId
from narrative.mood import LiveMood, Sample
from narrative.policies import POLICY_NAMES, policy_from_spec
from narrative.screening import Screening
from narrative.story import Story

OPTIONS = [OptionId(f"opt{i}") for i in range(5)]
WINDOW_S = 1_000_000.0


def bench_story() -> Story:
    """One long vote with five options: the hot path of a cinema screening."""
    return Story.model_validate(
        {
            "kinoroom": 1,
            "title": "bench",
            "start": "vote",
            "scenes": {
                "vote": {
                    "media": "m",
                    "duration": WINDOW_S + 10,
                    "choice": {
                        "at": 0,
                        "window": WINDOW_S,
                        "prompt": "?",
                        "default": "opt0",
                        "options": [{"id": o, "label": o, "goto": "end"} for o in OPTIONS],
                    },
                },
                "end": {"media": "m", "duration": 1, "ending": True},
            },
        }
    )


def joined_screening(phones: int, policy: str = "plurality") -> Screening:
    screening = Screening(bench_story(), policy_from_spec({"name": policy}), seed=1)
    for i in range(phones):
        screening.handle(Join(DeviceId(f"p{i}"), 0.0))
    screening.handle(Start(0.0))
    screening.handle(Tick(0.0))
    return screening


def votes_per_second(phones: int, rounds: int) -> dict[str, float]:
    rng = random.Random(2)
    screening = joined_screening(phones)
    events = [
        VoteCast(DeviceId(f"p{i}"), ChoiceId("vote"), Pick(rng.choice(OPTIONS)), r + 1, 1.0 + r)
        for r in range(rounds)
        for i in range(phones)
    ]
    gc.collect()
    started = time.perf_counter()
    for event in events:
        screening.handle(event)
    elapsed = time.perf_counter() - started
    return {"votes": len(events), "seconds": elapsed, "votes_per_s": len(events) / elapsed}


def decisions_per_second(phones: int, repeat: int) -> dict[str, float]:
    rng = random.Random(3)
    options = tuple(OptionInfo(o, o, (("arousal", 0.1 * i),)) for i, o in enumerate(OPTIONS))
    results: dict[str, float] = {}
    for name in POLICY_NAMES:
        policy = policy_from_spec({"name": name})
        casts = tuple(
            Cast(
                DeviceId(f"p{i}"),
                Ranking(tuple(rng.sample(OPTIONS, 3)))
                if name == "borda"
                else Pick(rng.choice(OPTIONS)),
                1.0,
            )
            for i in range(phones)
        )
        ctx = VoteContext(options, OPTIONS[0], casts, phones)
        started = time.perf_counter()
        for _ in range(repeat):
            decide(policy, ctx, rng)
        results[name] = repeat / (time.perf_counter() - started)
    return results


def memory_per_phone(phones: int) -> float:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    screening = joined_screening(phones)
    live = LiveMood()  # the room's per-phone affect, in memory beside its screening
    for i in range(phones):
        device = DeviceId(f"p{i}")
        screening.handle(VoteCast(device, ChoiceId("vote"), Pick(OPTIONS[i % 5]), 1, 1.0))
        live.add(Sample(device, 0.1, 0.2, 0.5, 1.0))
    screening.handle(RoomMood.of(live.reading(1.0), 1.0))
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    del screening, live
    return grown / phones


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20, help="votes per phone in the votes/s run")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "core.json")
    parser.add_argument("--smoke", action="store_true", help="a tiny run: does it work?")
    args = parser.parse_args()
    repeat = 20
    if args.smoke:
        args.phones, args.rounds, repeat = 300, 2, 2

    votes = votes_per_second(args.phones, args.rounds)
    decisions = decisions_per_second(args.phones, repeat=repeat)
    memory = memory_per_phone(args.phones)
    result = {
        "benchmark": "core",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "phones": args.phones,
        "votes_per_s": round(votes["votes_per_s"]),
        "votes": votes["votes"],
        "decisions_per_s": {name: round(rate, 1) for name, rate in decisions.items()},
        "memory_per_phone_bytes": round(memory),
        "target_votes_per_s": 100_000,
        "smoke": args.smoke,
    }
    print(
        f"votes into Screening ({args.phones} phones): {result['votes_per_s']:,} votes/s "
        f"({votes['votes']:,} votes in {votes['seconds']:.2f} s)"
    )
    for name, rate in result["decisions_per_s"].items():
        print(f"decisions/s with {args.phones} ballots, {name}: {rate:,.1f}")
    print(
        "memory per phone (joined, one ballot, one affect sample): "
        f"{result['memory_per_phone_bytes']:,} bytes"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
