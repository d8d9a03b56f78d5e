"""A group's taste, learnt from what its rooms felt, scene by scene. Pure.

What counts is only what the database already keeps of a screening, room-level:
the mood per scene (engagement, arousal; never a viewer's own), turnout per vote and
whether the room reached an ending (`Watched`).

**Scene by scene.** Within one screening, a scene's *response* is ``engagement + ½·arousal``
(how much the room leaned in and woke up). Each screening's responses and its scenes'
feature z-scores are centred on their own means, so what is learnt is what the response
*rose with* inside a film, not how expressive that room's cameras were that evening.
**Film by film.** With two screenings or more, each adds a row: how much the room liked
the film (``liking``: half completion, half interest) against its film-level z-scores,
both centred on the group's means.

**The model** is Bayesian linear regression with a Gaussian prior ``w ~ N(0, σ²/λ · I)``
and λ = 1 (ridge): ``μ = (XᵀX + λI)⁻¹ Xᵀy``, ``Σ = σ² (XᵀX + λI)⁻¹``, with σ² the
responses' variance (``PRIOR_VAR`` with no data). ``μ`` says which features the room
leaned in with; ``Σ`` how sure that is, which the exploration pick samples from
(Thompson sampling, as the ``explore`` policy does over options).

**Words.** The author's genre, themes and tags: each word's affinity is the sum of
``liking − ½`` over the group's films that carry it, shrunk by ``1 / (n + 1)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from server.recommend.film import FEATURES, SCENE_FEATURES, FilmProfile, Scaler, Vector

RIDGE = 1.0
PRIOR_VAR = 0.01  # (engagement units)² per z-unit: a 1-σ feature moves it ~0.1
AROUSAL_WEIGHT = 0.5


@dataclass(frozen=True, slots=True)
class SceneMood:
    """How the room felt during one scene (the `scene_moods` row, room-level)."""

    scene: str
    valence: float
    arousal: float
    engagement: float
    viewers: int


@dataclass(frozen=True, slots=True)
class Watched:
    """One screening of one group, as stored."""

    group: str
    story_id: int
    room: str
    completed: float  # 1: the room reached an ending; else the share of the film it saw
    turnout: float | None  # mean share of present phones that voted; None: no vote
    moods: tuple[SceneMood, ...] = ()

    @property
    def interest(self) -> float:
        """Mean engagement over the scenes (weighted by viewers); else the turnout."""
        weights = [m.viewers for m in self.moods]
        if self.moods and sum(weights) > 0:
            return float(np.average([m.engagement for m in self.moods], weights=weights))
        return self.turnout if self.turnout is not None else 0.5

    @property
    def liking(self) -> float:
        return 0.5 * self.completed + 0.5 * self.interest


@dataclass(frozen=True, slots=True)
class Taste:
    """The posterior over taste weights (one per `FEATURES` entry), plus word affinities."""

    mean: Vector
    cov: Vector
    rows: int  # how many scene and film rows it was learnt from
    words: Mapping[str, float] = field(default_factory=dict)

    def score(self, z: Vector, words: frozenset[str] = frozenset()) -> float:
        """Expected lift of ``z`` (a film's z-scores), plus its words' affinity."""
        affinity = [self.words[w] for w in words if w in self.words]
        return float(self.mean @ z) + (float(np.mean(affinity)) if affinity else 0.0)

    def sample(self, rng: np.random.Generator) -> Vector:
        """One draw of the weights (Thompson sampling)."""
        return np.asarray(rng.multivariate_normal(self.mean, self.cov, method="cholesky"))


def learn_taste(
    watched: Sequence[Watched], films: Mapping[int, FilmProfile], scaler: Scaler
) -> Taste:
    """The group's taste from its screenings (module docstring)."""
    xs: list[Vector] = []
    ys: list[float] = []
    for screening in watched:
        film = films.get(screening.story_id)
        if film is None:
            continue
        rows = [
            (_scene_z(scaler, film, m.scene), m.engagement + AROUSAL_WEIGHT * m.arousal)
            for m in screening.moods
            if m.scene in film.scenes and m.viewers > 0
        ]
        if len(rows) >= 2:
            x = np.array([r[0] for r in rows])
            y = np.array([r[1] for r in rows])
            xs += list(x - x.mean(axis=0))
            ys += list(y - y.mean())
    known = [(films[w.story_id], w.liking) for w in watched if w.story_id in films]
    if len(known) >= 2:
        x = np.array([scaler.vector(f.values) for f, _ in known])
        y = np.array([liking for _, liking in known])
        xs += list(x - x.mean(axis=0))
        ys += list(y - y.mean())
    words = _word_affinity(known)
    d = len(FEATURES)
    if not xs:
        return Taste(np.zeros(d), PRIOR_VAR * np.eye(d), 0, words)
    x, y = np.array(xs), np.array(ys)
    precision = x.T @ x + RIDGE * np.eye(d)
    mean = np.linalg.solve(precision, x.T @ y)
    noise = max(float(np.var(y)), 1e-4)
    cov = noise * np.linalg.inv(precision)
    return Taste(mean, (cov + cov.T) / 2, len(ys), words)


def _scene_z(scaler: Scaler, film: FilmProfile, scene: str) -> Vector:
    values = dict(film.scenes[scene].values)
    z = scaler.vector(values, SCENE_FEATURES)
    return np.concatenate([z, np.zeros(len(FEATURES) - len(SCENE_FEATURES))])


def _word_affinity(known: Sequence[tuple[FilmProfile, float]]) -> dict[str, float]:
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for film, liking in known:
        for word in film.words:
            sums[word] = sums.get(word, 0.0) + liking - 0.5
            counts[word] = counts.get(word, 0) + 1
    return {w: s / (counts[w] + 1) for w, s in sums.items()}


__all__ = ["AROUSAL_WEIGHT", "PRIOR_VAR", "RIDGE", "SceneMood", "Taste", "Watched", "learn_taste"]
