"""Benchmark of ink screenings: votes/s with the ink runtime behind the Screening, against
the YAML core, and what the runtime costs at each choice point.

Run with ``make bench`` or ``.venv/bin/python bench/ink.py [--phones N] [--turns T]``.
Prints the figures and writes them as JSON (default ``bench/results/ink.json``):

- ``votes_per_s``: one vote of five options open for as long as it takes, N phones each
  voting ``--rounds`` times, fed to a `Screening` of an ink story and of the same vote as
  a story file (the core's own benchmark, ``bench/core.py``, measures the second alone);
  the two runs alternate ``--repeat`` times and the best of each counts (the machine is
  shared: the best run is the one least disturbed), the median beside it;
- ``choice_point_us``: wall time per choice point of the bundled ink story, from the
  decision to the next choice point's scenes ready (the runtime continuing, the scenes
  built, the branch entered), walking ``--turns`` choice points; once taking only the
  branch the room chose (a text story), once computing every option's branch ahead (what a
  room does when the options lead to clips to pre-read);
- the snapshot: the ink state's size in a snapshot, and the time to restore a screening;
- ``explore_choice_points_per_s``: the validator's bounded exploration of the story.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.core import WINDOW_S, bench_story
from narrative.ballots import Pick
from narrative.events import Join, Start, Tick, VoteCast
from narrative.ids import DeviceId
from narrative.ink_explore import explore
from narrative.ink_story import InkStory, read_ink
from narrative.plot import Screenable
from narrative.policies import policy_from_spec
from narrative.screening import Screening
from narrative.stories import LAMPLIGHTER

# The core benchmark's vote as an ink story: five choices, a window longer than the run.
# Compiled by hand in ink's JSON runtime format (what inklecate writes for it).
VOTE_INK = {
    "inkVersion": 21,
    "root": [
        [
            "#", f"^window: {WINDOW_S:g}", "/#", "^Vote.", "\n",
            *[part for i in range(5) for part in (
                "ev", "str", f"^opt{i}", "/str", "/ev", {"*": f"0.c-{i}", "flg": 20},
            )],
            {f"c-{i}": ["\n", "end", {"#f": 5}] for i in range(5)},
        ],
        "done",
        {"global decl": ["ev", "/ev", "end", None]},
    ],
    "listDefs": {},
}  # fmt: skip


def joined(story: Screenable, phones: int) -> Screening:
    screening = Screening(story, policy_from_spec({"name": "plurality"}), seed=1)
    for i in range(phones):
        screening.handle(Join(DeviceId(f"p{i}"), 0.0))
    screening.handle(Start(0.0))
    screening.handle(Tick(10.0))  # past the reading time: the vote is open
    return screening


def votes_per_second(story: Screenable, phones: int, rounds: int) -> float:
    screening = joined(story, phones)
    vote = screening.open_vote
    assert vote is not None and len(vote.options) == 5
    rng = random.Random(2)
    events = [
        VoteCast(DeviceId(f"p{i}"), vote.choice, Pick(rng.choice(vote.options)), r + 1, 11.0 + r)
        for r in range(rounds)
        for i in range(phones)
    ]
    gc.collect()
    started = time.perf_counter()
    for event in events:
        screening.handle(event)
    return len(events) / (time.perf_counter() - started)


def choice_points(story: InkStory, turns: int, *, look_ahead: bool) -> list[float]:
    """Seconds from a decision to the next choice point's scenes, ``turns`` times (the
    story starts again at its end). ``look_ahead``: every option's branch first."""
    rng = random.Random(5)
    timings: list[float] = []
    while len(timings) < turns:
        plot = story.plot(seed=len(timings))
        scene_id = plot.start
        plot.enter(scene_id)
        while len(timings) < turns:
            scene = plot.scene(scene_id)
            while scene.choice is None and scene.next is not None:
                scene_id = scene.next
                plot.enter(scene_id)
                scene = plot.scene(scene_id)
            if scene.choice is None:
                break  # the end
            options = scene.choice.options
            started = time.perf_counter()
            if look_ahead:
                for option in options:
                    plot.scene(option.goto)
            scene_id = rng.choice(options).goto
            plot.enter(scene_id)
            plot.scene(scene_id)
            timings.append(time.perf_counter() - started)
    return timings


def summary_us(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    return {
        "median": round(statistics.median(ordered) * 1e6, 1),
        "p95": round(ordered[int(0.95 * (len(ordered) - 1))] * 1e6, 1),
        "mean": round(statistics.fmean(ordered) * 1e6, 1),
    }


def snapshot_figures(story: InkStory) -> dict[str, float]:
    screening = joined(story, 10)
    data = screening.snapshot()
    text = json.dumps(data)
    started = time.perf_counter()
    for _ in range(50):
        Screening.restore(story, json.loads(text))
    return {
        "snapshot_bytes": len(text),
        "ink_state_bytes": len(json.dumps(data["plot"])),
        "restore_ms": round((time.perf_counter() - started) / 50 * 1e3, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5, help="votes per phone, per run")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each, alternating")
    parser.add_argument("--turns", type=int, default=2_000, help="choice points to time")
    parser.add_argument("--explore", type=int, default=2_000, help="choice points to explore")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "ink.json")
    parser.add_argument("--smoke", action="store_true", help="a tiny run: does it still work?")
    args = parser.parse_args()
    if args.smoke:
        args.phones, args.rounds, args.repeat, args.turns, args.explore = 50, 1, 1, 20, 20

    vote_ink = read_ink(json.dumps(VOTE_INK), "vote.ink.json")
    lamplighter = read_ink(LAMPLIGHTER.read_text(encoding="utf-8"), LAMPLIGHTER.name)
    rates: dict[str, list[float]] = {"ink": [], "yaml": []}
    for _ in range(args.repeat):
        rates["yaml"].append(votes_per_second(bench_story(), args.phones, args.rounds))
        rates["ink"].append(votes_per_second(vote_ink, args.phones, args.rounds))
    ink_rate, yaml_rate = max(rates["ink"]), max(rates["yaml"])
    chosen = choice_points(lamplighter, args.turns, look_ahead=False)
    ahead = choice_points(lamplighter, args.turns, look_ahead=True)
    started = time.perf_counter()
    _, coverage = explore(lamplighter, LAMPLIGHTER.name, limit=args.explore)
    explored_s = time.perf_counter() - started
    result = {
        "benchmark": "ink",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "phones": args.phones,
        "votes": args.phones * args.rounds,
        "votes_per_s": {"ink": round(ink_rate), "yaml": round(yaml_rate)},
        "votes_per_s_median": {k: round(statistics.median(v)) for k, v in rates.items()},
        "ink_vs_yaml": round(ink_rate / yaml_rate, 3),
        "choice_point_us": {
            "story": LAMPLIGHTER.name,
            "turns": args.turns,
            "chosen_branch": summary_us(chosen),
            "every_branch_ahead": summary_us(ahead),
        },
        **snapshot_figures(lamplighter),
        "explore_choice_points": coverage.choice_points,
        "explore_choice_points_per_s": round(coverage.choice_points / explored_s),
    }
    print(
        f"votes/s, {args.phones} phones x {args.rounds}, best of {args.repeat}: ink "
        f"{ink_rate:,.0f}, yaml {yaml_rate:,.0f} ({ink_rate / yaml_rate:.0%} of the YAML core)"
    )
    for name, timings in (("the chosen branch", chosen), ("every branch ahead", ahead)):
        figures = summary_us(timings)
        print(
            f"ink runtime per choice point ({name}): median {figures['median']:,.0f} µs, "
            f"p95 {figures['p95']:,.0f} µs over {len(timings)} choice points"
        )
    print(
        f"snapshot {result['snapshot_bytes']:,} bytes (ink state {result['ink_state_bytes']:,}), "
        f"restore {result['restore_ms']} ms; exploration "
        f"{result['explore_choice_points_per_s']:,} choice points/s"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
