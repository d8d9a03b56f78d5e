"""Offline evaluation of "Watch next": simulated groups with hidden tastes.

Run ``.venv/bin/python bench/recommend.py`` (``--smoke`` for a run of seconds). Prints
the figures and writes them as JSON (``bench/results/recommend.json``) and a plot
(``bench/results/recommend.png``).

**The world.** A catalogue of films, each a handful of scenes whose features (shot
length, motion, lightness, colourfulness, loudness, tempo, words on screen) scatter
around the film's own style, plus a structure (votes, endings, length) and a genre.
Each group has a hidden taste: weights over those features (two or three strong ones,
the rest weak) and a favourite genre. A group's **true utility** for a film is its
taste applied to the film's z-scores plus the genre bonus.

**Screenings.** A group picks what it watches itself (a softmax over its true utility:
groups mostly choose what they like, not always), and the room's reactions follow its
taste with noise, scene by scene: ``engagement = 0.5 + 0.12·taste·z(scene) + N(0, 0.08)``
(clipped to 0..1), arousal likewise; it finishes the film when the utility plus noise is
not too low; turnout scatters. Only these room-level numbers reach the recommender, as
in the database.

**Figures.** For every group, after its screenings: **hit rate at 3** (a hit when one of
the three picks is among the group's five best unwatched films by true utility) for the
recommender with and without its exploration pick, against **popularity** (the films
groups liked most, summed) and **random** picks; **catalogue coverage** (the share of
the catalogue that appears in any group's picks) and **intra-list diversity** (the mean
distance between the picks' feature z-scores); and for new groups, hit rate after 0, 1,
2, … screenings, to find how many a new group needs before its picks beat popularity.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.recommend.film import (
    FEATURES,
    SCENE_FEATURES,
    FilmProfile,
    Scaler,
    SceneLook,
    film_values,
)
from server.recommend.picks import watch_next
from server.recommend.taste import SceneMood, Watched

GENRES = ("thriller", "comedy", "drama", "mystery", "romance", "horror")
STYLE = {  # feature: (centre, spread between films, spread between a film's scenes)
    "shot_s": (4.0, 1.8, 0.8), "motion": (6.0, 3.0, 1.5), "lightness": (45.0, 12.0, 5.0),
    "colourfulness": (35.0, 12.0, 5.0), "loudness_lufs": (-22.0, 4.0, 2.0),
    "tempo_bpm": (110.0, 20.0, 5.0),
}  # fmt: skip
TOP = 5  # a hit is a pick among the group's TOP best unwatched films


@dataclass(frozen=True)
class World:
    films: list[FilmProfile]
    z: dict[int, np.ndarray]
    scene_z: dict[tuple[int, str], np.ndarray]
    tastes: dict[str, np.ndarray]
    genre_of: dict[str, str]


def make_world(films: int, groups: int, rng: np.random.Generator) -> World:
    profiles = []
    for fid in range(1, films + 1):
        centre = {k: rng.normal(c, s) for k, (c, s, _) in STYLE.items()}
        centre["shot_s"] = max(0.8, centre["shot_s"])
        words = 1.0 if rng.random() < 0.15 else 0.0
        scenes = {}
        for n in range(int(rng.integers(4, 9))):
            values = {k: float(rng.normal(centre[k], STYLE[k][2])) for k in STYLE}
            values["shot_s"] = max(0.5, values["shot_s"])
            values["words"] = words if rng.random() < 0.8 else 1.0 - words
            scenes[f"s{n}"] = SceneLook(f"s{n}", float(rng.uniform(20, 90)), values)
        structure = {
            "choices": float(rng.integers(1, 9)),
            "endings": float(rng.integers(1, 5)),
            "length_min": float(rng.uniform(5, 40)),
        }
        genre = (GENRES[int(rng.integers(len(GENRES)))],)
        profiles.append(
            FilmProfile(fid, f"d{fid}", f"Film {fid}", film_values(scenes.values(), structure),
                        genre=genre, scenes=scenes, measured=True)
        )  # fmt: skip
    scaler = Scaler.fit(profiles)
    z = {f.story_id: scaler.vector(f.values) for f in profiles}
    structure = np.zeros(len(FEATURES) - len(SCENE_FEATURES))
    scene_z = {
        (f.story_id, s): np.concatenate([scaler.vector(look.values, SCENE_FEATURES), structure])
        for f in profiles
        for s, look in f.scenes.items()
    }  # fmt: skip
    tastes, genre_of = {}, {}
    for g in range(groups):
        taste = rng.normal(0, 0.3, len(FEATURES))
        strong = rng.choice(len(SCENE_FEATURES), size=int(rng.integers(2, 4)), replace=False)
        taste[strong] = rng.choice([-1.0, 1.0], len(strong)) * rng.uniform(0.8, 1.5, len(strong))
        tastes[f"g{g}"] = taste
        genre_of[f"g{g}"] = GENRES[int(rng.integers(len(GENRES)))]
    return World(profiles, z, scene_z, tastes, genre_of)


def utility(world: World, group: str, film: FilmProfile) -> float:
    bonus = 0.8 if film.genre and film.genre[0] == world.genre_of[group] else 0.0
    return float(world.tastes[group] @ world.z[film.story_id]) + bonus


def screen(world: World, group: str, film: FilmProfile, rng: np.random.Generator) -> Watched:
    taste = world.tastes[group]
    moods = []
    for s in film.scenes:
        lift = float(taste @ world.scene_z[(film.story_id, s)])
        engagement = float(np.clip(0.5 + 0.12 * lift + rng.normal(0, 0.08), 0, 1))
        arousal = float(np.clip(0.1 * lift + rng.normal(0, 0.1), -1, 1))
        moods.append(SceneMood(s, 0.0, arousal, engagement, 5))
    finished = utility(world, group, film) + rng.normal(0, 0.5) > -0.5
    completed = 1.0 if finished else float(rng.uniform(0.1, 0.5))
    return Watched(group, film.story_id, f"{group}-{film.story_id}", completed,
                   float(rng.uniform(0.5, 0.95)), tuple(moods))  # fmt: skip


def choose(world: World, group: str, seen: set[int], rng: np.random.Generator) -> FilmProfile:
    """What a group picks by itself: mostly what it likes (softmax, temperature 0.7)."""
    options = [f for f in world.films if f.story_id not in seen]
    u = np.array([utility(world, group, f) for f in options]) / 0.7
    p = np.exp(u - u.max())
    return options[int(rng.choice(len(options), p=p / p.sum()))]


def watch(world: World, group: str, n: int, rng: np.random.Generator) -> list[Watched]:
    seen: set[int] = set()
    out = []
    for _ in range(n):
        film = choose(world, group, seen, rng)
        seen.add(film.story_id)
        out.append(screen(world, group, film, rng))
    return out


def relevant(world: World, group: str, seen: set[int]) -> set[int]:
    ranked = sorted(
        (f for f in world.films if f.story_id not in seen),
        key=lambda f: -utility(world, group, f),
    )
    return {f.story_id for f in ranked[:TOP]}


def popular(history: list[Watched], seen: set[int], films: list[FilmProfile]) -> list[int]:
    liked: dict[int, float] = {f.story_id: 0.0 for f in films}
    for w in history:
        liked[w.story_id] += w.liking
    return [s for s in sorted(liked, key=lambda s: (-liked[s], s)) if s not in seen][:3]


def diversity(world: World, picks: list[int]) -> float:
    pairs = list(combinations(picks, 2))
    if not pairs:
        return 0.0
    return float(np.mean([np.linalg.norm(world.z[a] - world.z[b]) for a, b in pairs]))


def evaluate(world: World, history: list[Watched], groups: list[str], rng) -> dict[str, object]:
    rows: dict[str, list[float]] = {
        k: [] for k in ("ours", "ours_no_explore", "popularity", "random")
    }
    shown: dict[str, set[int]] = {"ours": set(), "ours_no_explore": set()}
    spread: dict[str, list[float]] = {"ours": [], "ours_no_explore": []}
    for group in groups:
        seen = {w.story_id for w in history if w.group == group}
        target = relevant(world, group, seen)
        for name, explore in (("ours", True), ("ours_no_explore", False)):
            picks = [
                p.story_id for p in watch_next(group, world.films, history, explore=explore).picks
            ]
            rows[name].append(float(bool(set(picks) & target)))
            shown[name] |= set(picks)
            spread[name].append(diversity(world, picks))
        rows["popularity"].append(float(bool(set(popular(history, seen, world.films)) & target)))
        unseen = [f.story_id for f in world.films if f.story_id not in seen]
        randoms = [int(s) for s in rng.choice(unseen, size=3, replace=False)]
        rows["random"].append(float(bool(set(randoms) & target)))
    n = len(world.films)
    return {
        "hit_rate_at_3": {k: round(float(np.mean(v)), 3) for k, v in rows.items()},
        "coverage": {k: round(len(v) / n, 3) for k, v in shown.items()},
        "intra_list_diversity": {k: round(float(np.mean(v)), 3) for k, v in spread.items()},
    }  # fmt: skip


def learning_curve(world, history, new_groups, steps, rng) -> dict[str, list[float]]:
    curve: dict[str, list[float]] = {"ours": [], "popularity": [], "random": []}
    runs = {g: watch(world, g, steps, rng) for g in new_groups}
    for k in range(steps + 1):
        hits: dict[str, list[float]] = {name: [] for name in curve}
        for g in new_groups:
            mine = runs[g][:k]
            seen = {w.story_id for w in mine}
            target = relevant(world, g, seen)
            picks = [p.story_id for p in watch_next(g, world.films, history + mine).picks]
            hits["ours"].append(float(bool(set(picks) & target)))
            hits["popularity"].append(
                float(bool(set(popular(history, seen, world.films)) & target))
            )
            unseen = [f.story_id for f in world.films if f.story_id not in seen]
            hits["random"].append(
                float(bool({int(s) for s in rng.choice(unseen, 3, replace=False)} & target))
            )
        for name in curve:
            curve[name].append(round(float(np.mean(hits[name])), 3))
    return curve  # fmt: skip


def plot(results: dict[str, object], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = results["learning_curve"]
    assert isinstance(curve, dict)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for name, style in (("ours", "o-"), ("popularity", "s--"), ("random", "x:")):
        left.plot(range(len(curve[name])), curve[name], style, label=name)
    left.set(xlabel="screenings of a new group", ylabel="hit rate at 3", title="A new group")
    left.legend()
    hits = results["hit_rate_at_3"]
    assert isinstance(hits, dict)
    right.bar(list(hits), list(hits.values()), color=["#3465a4", "#729fcf", "#888a85", "#babdb6"])
    right.set(ylabel="hit rate at 3", title="Groups with history")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny world: runs in seconds")
    parser.add_argument("--films", type=int, default=60)
    parser.add_argument("--groups", type=int, default=80)
    parser.add_argument("--new-groups", type=int, default=30)
    parser.add_argument("--steps", type=int, default=8, help="screenings of a new group")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("bench/results/recommend.json"))
    args = parser.parse_args(argv)
    if args.smoke:
        args.films, args.groups, args.new_groups, args.steps = 12, 8, 4, 2
    rng = np.random.default_rng(args.seed)
    began = time.perf_counter()
    world = make_world(args.films, args.groups + args.new_groups, rng)
    names = [f"g{g}" for g in range(args.groups)]
    history = [w for g in names for w in watch(world, g, int(rng.integers(2, 9)), rng)]
    results: dict[str, object] = {
        "films": args.films, "groups": args.groups, "screenings": len(history),
        **evaluate(world, history, names, rng),
    }  # fmt: skip
    new = [f"g{g}" for g in range(args.groups, args.groups + args.new_groups)]
    curve = learning_curve(world, history, new, args.steps, rng)
    beats = [k for k in range(args.steps + 1) if curve["ours"][k] > curve["popularity"][k]]
    results["learning_curve"] = curve
    results["screenings_to_beat_popularity"] = beats[0] if beats else None
    results["seconds"] = round(time.perf_counter() - began, 2)
    results["machine"] = platform.platform()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    plot(results, args.out.with_suffix(".png"))
    print(json.dumps({k: v for k, v in results.items() if k != "machine"}, indent=2))
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
