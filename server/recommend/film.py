"""A film of the library as the recommender sees it: numbers per scene, numbers per film,
the author's words. Pure values; `library.profile_of` builds them.

Scene features (`SCENE_FEATURES`) are what a scene's clip measured (`measure`), plus
``words``: 1 for a text scene (the story's words on the screen, no clip), else 0. A
film's features are its scenes' weighted by duration, plus its structure (`FILM_ONLY`):
votes on the director's cut, endings, and length. All features go through one `Scaler`
fitted on the whole library (z-scores), so one taste vector scores scenes and films
alike (a film's z-score is its scenes' duration-weighted mean: the map is affine).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float64]

#: What a scene's clip measured, and whether it is told in words.
SCENE_FEATURES = (
    "shot_s", "motion", "lightness", "colourfulness", "loudness_lufs", "tempo_bpm", "words",
)  # fmt: skip
#: What only a whole film has: votes on the director's cut, endings, minutes.
FILM_ONLY = ("choices", "endings", "length_min")
FEATURES = SCENE_FEATURES + FILM_ONLY


@dataclass(frozen=True, slots=True)
class SceneLook:
    """One scene's features (only those known: a clip not measured has none)."""

    scene: str
    duration_s: float
    values: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class FilmProfile:
    """One story of the library."""

    story_id: int
    digest: str
    title: str
    values: Mapping[str, float]  # film-level features that are known
    genre: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    scenes: Mapping[str, SceneLook] = field(default_factory=dict)
    measured: bool = False  # at least one clip's measures went in

    @property
    def words(self) -> frozenset[str]:
        """The author's words, lowercased: what metadata affinity counts."""
        return frozenset(w.lower() for w in (*self.genre, *self.themes, *self.tags))


def film_values(scenes: Iterable[SceneLook], structure: Mapping[str, float]) -> dict[str, float]:
    """A film's features: each scene feature's duration-weighted mean over the scenes
    that have it, then the structure."""
    looks = list(scenes)
    values: dict[str, float] = {}
    for name in SCENE_FEATURES:
        known = [(s.duration_s, s.values[name]) for s in looks if name in s.values]
        weight = sum(d for d, _ in known)
        if weight > 0:
            values[name] = sum(d * v for d, v in known) / weight
    return {**values, **structure}


@dataclass(frozen=True, slots=True)
class Scaler:
    """z-scores per feature, fitted on every scene (scene features) and every film (the
    structure) of the library; a feature the library never shows, or never varies, maps
    to 0 (it cannot tell films apart)."""

    mean: Mapping[str, float]
    std: Mapping[str, float]

    @classmethod
    def fit(cls, films: Sequence[FilmProfile]) -> Scaler:
        samples: dict[str, list[float]] = {name: [] for name in FEATURES}
        for film in films:
            for scene in film.scenes.values():
                for name in SCENE_FEATURES:
                    if name in scene.values:
                        samples[name].append(scene.values[name])
            for name in FEATURES:
                if name in film.values and (name in FILM_ONLY or not film.scenes):
                    samples[name].append(film.values[name])
        mean = {n: float(np.mean(v)) for n, v in samples.items() if v}
        std = {n: float(np.std(v)) for n, v in samples.items() if v and np.std(v) > 1e-9}
        return cls(mean, std)

    def vector(self, values: Mapping[str, float], names: Sequence[str] = FEATURES) -> Vector:
        """z-scores of ``values`` over ``names``; unknown or constant features are 0."""
        return np.array(
            [
                (values[n] - self.mean[n]) / self.std[n] if n in values and n in self.std else 0.0
                for n in names
            ],
            np.float64,
        )


__all__ = [
    "FEATURES",
    "FILM_ONLY",
    "SCENE_FEATURES",
    "FilmProfile",
    "Scaler",
    "SceneLook",
    "Vector",
    "film_values",
]
