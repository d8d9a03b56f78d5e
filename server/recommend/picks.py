"""What to watch next: a hybrid of the group's own taste and other groups', with one pick
outside its habit. Pure: the library, every group's history and a seed in, picks out.

1. **Content** (`taste.learn_taste`): each unwatched film's expected lift under the
   group's taste, plus its words' affinity.
2. **Collaborative** (`collab.collaborative_scores`): the group's ALS score.
3. **Blend**: both z-scored over the candidates, mixed as ``(1 − β)·content +
   β·collaborative`` with ``β = h/(h + 3) · g/(g + 2)``: ``h`` the group's screenings,
   ``g`` the other groups with history. A new group (``h = 0``) gets content alone; the
   server's crowd weighs in as both histories grow.
4. **Cold start** (no screening yet): films spread over the library's feature space
   (farthest-point from its centre), so a first evening tells the most.
5. **Against the cocoon**: the last pick comes from films outside the group's habit
   (at least the median distance from the centre of what it watched, in z-scores, or
   sharing none of its words), chosen by Thompson sampling as the ``explore`` policy
   chooses options: one draw of the taste weights from their posterior, the best film
   under that draw. An uncertain film wins some draws; a film the group's reactions
   argue against rarely does. The draw is seeded by the group and its history, so the
   pick stays put until something new is watched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from server.recommend.collab import collaborative_scores
from server.recommend.film import FEATURES, FilmProfile, Scaler, Vector
from server.recommend.reasons import (
    close_reason,
    explore_reason,
    start_reason,
    taste_reason,
    together_reason,
    word_reason,
)
from server.recommend.taste import Taste, Watched, learn_taste

PickKind = Literal["taste", "together", "start", "explore"]
COUNT = 3
HISTORY_HALF = 3.0  # screenings at which the group's own history counts half
CROWD_HALF = 2.0  # other groups at which the crowd counts half


@dataclass(frozen=True, slots=True)
class Pick:
    story_id: int
    title: str
    kind: PickKind  # explore: the one outside the habit
    reason: str
    score: float


@dataclass(frozen=True, slots=True)
class WatchNext:
    group: str
    screenings: int  # the group's screenings the picks learnt from
    blend: float  # β: the weight of other groups
    picks: tuple[Pick, ...]


def watch_next(
    group: str,
    library: Sequence[FilmProfile],
    history: Sequence[Watched],
    *,
    count: int = COUNT,
    explore: bool = True,
    seed: int = 0,
) -> WatchNext:
    """The picks for ``group`` (module docstring); ``history`` holds every group's."""
    films = {f.story_id: f for f in library}
    scaler = Scaler.fit(library)
    z = {f.story_id: scaler.vector(f.values) for f in library}
    mine = [w for w in history if w.group == group and w.story_id in films]
    watched = list(dict.fromkeys(w.story_id for w in mine))
    candidates = [s for s in films if s not in watched] or watched
    candidates += [s for s in reversed(watched) if s not in candidates][: count - len(candidates)]
    taste = learn_taste(mine, films, scaler)
    rng = np.random.default_rng(_seed(group, len(mine), seed))
    others = len({w.group for w in history if w.group != group})
    blend = (len(mine) / (len(mine) + HISTORY_HALF)) * (others / (others + CROWD_HALF))
    n_exploit = count - 1 if explore and len(candidates) > 1 else count
    if not mine:
        chosen = _spread(candidates, z, n_exploit)
        picks = [_start(films[s], z[s], scaler) for s in chosen]
    else:
        content = {s: taste.score(z[s], films[s].words) for s in candidates}
        crowd = collaborative_scores(history, group, candidates, seed=seed) if blend else None
        final = _mix(content, crowd, blend)
        ranked = sorted(candidates, key=lambda s: (-final[s], s))
        picks = [
            _exploit(films[s], z[s], taste, scaler, final[s], content, crowd, blend, mine, films)
            for s in ranked[:n_exploit]
        ]
    if explore and len(picks) < count:
        rest = [s for s in candidates if s not in {p.story_id for p in picks}]
        found = _explore(rest, watched, z, films, taste, rng)
        if found is not None:
            picks.append(_outside(films[found], z[found], [z[s] for s in watched], scaler))
    return WatchNext(group, len(mine), round(blend, 3), tuple(picks))


def _seed(group: str, screenings: int, seed: int) -> int:
    digest = hashlib.sha256(f"{group}:{screenings}:{seed}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _standard(scores: Mapping[int, float]) -> dict[int, float]:
    values = np.array(list(scores.values()))
    spread = float(values.std()) if len(values) else 0.0
    mean = float(values.mean()) if len(values) else 0.0
    return {s: (v - mean) / spread if spread > 1e-12 else 0.0 for s, v in scores.items()}


def _mix(
    content: Mapping[int, float], crowd: Mapping[int, float] | None, blend: float
) -> dict[int, float]:
    own = _standard(content)
    if crowd is None:
        return {s: own[s] + 1e-3 * content[s] for s in content}
    theirs = _standard(crowd)
    return {s: (1 - blend) * own[s] + blend * theirs[s] for s in content}


def _spread(candidates: Sequence[int], z: Mapping[int, Vector], n: int) -> list[int]:
    """Farthest-point picks: the most typical film, then each farthest from those chosen."""
    if not candidates:
        return []
    centre = np.mean([z[s] for s in candidates], axis=0)
    chosen = [min(candidates, key=lambda s: (float(np.linalg.norm(z[s] - centre)), s))]
    while len(chosen) < min(n, len(candidates)):
        rest = [s for s in candidates if s not in chosen]
        chosen.append(
            max(rest, key=lambda s: (min(float(np.linalg.norm(z[s] - z[c])) for c in chosen), -s))
        )
    return chosen


def _explore(
    rest: Sequence[int],
    watched: Sequence[int],
    z: Mapping[int, Vector],
    films: Mapping[int, FilmProfile],
    taste: Taste,
    rng: np.random.Generator,
) -> int | None:
    if not rest:
        return None
    habit = np.mean([z[s] for s in watched], axis=0) if watched else np.zeros(len(FEATURES))
    seen = frozenset().union(*(films[s].words for s in watched)) if watched else frozenset()
    distance = {s: float(np.linalg.norm(z[s] - habit)) for s in rest}
    median = float(np.median(list(distance.values())))
    outside = [s for s in rest if distance[s] >= median or not (films[s].words & seen)]
    draw = taste.sample(rng)
    return max(outside or rest, key=lambda s: (float(draw @ z[s]) + taste.score(
        np.zeros(len(FEATURES)), films[s].words), -s))  # fmt: skip


def _distinctive(z: Vector, scaler: Scaler) -> str | None:
    """The feature on which a film stands out most from the library."""
    known = [(abs(float(z[i])), n) for i, n in enumerate(FEATURES) if n in scaler.std]
    best = max(known, default=(0.0, ""))
    return best[1] if best[0] > 0.25 else None


def _start(film: FilmProfile, z: Vector, scaler: Scaler) -> Pick:
    feature = _distinctive(z, scaler)
    value = film.values.get(feature, 0.0) if feature else 0.0
    return Pick(film.story_id, film.title, "start", start_reason(feature, value, film.genre), 0.0)


def _exploit(
    film: FilmProfile,
    z: Vector,
    taste: Taste,
    scaler: Scaler,
    score: float,
    content: Mapping[int, float],
    crowd: Mapping[int, float] | None,
    blend: float,
    mine: Sequence[Watched],
    films: Mapping[int, FilmProfile],
) -> Pick:
    own = (1 - blend) * _standard(content)[film.story_id]
    theirs = blend * _standard(crowd)[film.story_id] if crowd is not None else 0.0
    if crowd is not None and theirs > own:
        best = max(mine, key=lambda w: w.liking)
        reason = together_reason(films[best.story_id].title if best.liking > 0.5 else None)
        return Pick(film.story_id, film.title, "together", reason, round(score, 4))
    parts = [
        (float(taste.mean[i] * z[i]), i)
        for i, name in enumerate(FEATURES)
        if name in film.values and name in scaler.std
    ]
    lift, i = max(parts, default=(0.0, -1))
    liked = sorted((taste.words.get(w, 0.0), w) for w in film.words)
    if liked and liked[-1][0] > max(lift, 0.0):
        reason = word_reason(liked[-1][1], film.genre)
    elif i >= 0 and lift > 0:
        name = FEATURES[i]
        reason = taste_reason(name, float(taste.mean[i]), film.values[name])
    else:
        feature = _distinctive(z, scaler)
        value = film.values.get(feature, 0.0) if feature else 0.0
        reason = close_reason(feature, value, film.genre)
    return Pick(film.story_id, film.title, "taste", reason, round(score, 4))


def _outside(film: FilmProfile, z: Vector, habit: Sequence[Vector], scaler: Scaler) -> Pick:
    centre = np.mean(habit, axis=0) if habit else np.zeros(len(FEATURES))
    gaps = [
        (abs(float(z[i] - centre[i])), i)
        for i, name in enumerate(FEATURES)
        if name in film.values and name in scaler.std
    ]
    gap, i = max(gaps, default=(0.0, -1))
    if i < 0 or gap < 0.25:
        reason = explore_reason(None, 0.0, 0.0, film.genre)
    else:
        name = FEATURES[i]
        usual = scaler.mean[name] + float(centre[i]) * scaler.std[name]
        reason = explore_reason(name, film.values[name], usual, film.genre)
    return Pick(film.story_id, film.title, "explore", reason, 0.0)


__all__ = ["COUNT", "Pick", "PickKind", "WatchNext", "watch_next"]
