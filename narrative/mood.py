"""The room's mood: per-viewer affect samples aggregated into one reading.

Scales (the same ones `affect/` produces): valence −1 (unpleasant) … +1 (pleasant),
arousal −1 (calm) … +1 (excited), engagement 0 (elsewhere) … 1 (riveted).
A sample older than `stale_after_s` no longer counts: a phone that stopped sending
(camera off, pocketed) must not pin the room's mood to what it felt minutes ago.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from narrative.ids import DeviceId

STALE_AFTER_S = 15.0

# Named levels a story may use in `mood:` targets and variant conditions' documentation.
LEVELS: dict[str, dict[str, float]] = {
    "valence": {"low": -0.5, "mid": 0.0, "high": 0.5},
    "arousal": {"low": -0.5, "mid": 0.0, "high": 0.5},
    "engagement": {"low": 0.2, "mid": 0.5, "high": 0.8},
}
DIMENSIONS = tuple(LEVELS)
RANGES: dict[str, tuple[float, float]] = {
    "valence": (-1.0, 1.0),
    "arousal": (-1.0, 1.0),
    "engagement": (0.0, 1.0),
}


@dataclass(frozen=True, slots=True)
class Sample:
    device: DeviceId
    valence: float
    arousal: float
    engagement: float
    at: float  # room clock, seconds


@dataclass(frozen=True, slots=True)
class Mood:
    """The room's aggregated affect; `viewers` is how many phones it is built from."""

    valence: float
    arousal: float
    engagement: float
    viewers: int

    def get(self, dimension: str) -> float:
        value: float = getattr(self, dimension)
        return value


NEUTRAL = Mood(valence=0.0, arousal=0.0, engagement=0.5, viewers=0)


def aggregate(samples: Iterable[Sample], now: float, stale_after_s: float = STALE_AFTER_S) -> Mood:
    """Mean of the fresh samples, one per device (the caller keeps only the latest).

    Returns `NEUTRAL` when no sample is fresh, so conditions over `mood.*` always have a value.
    """
    fresh = [s for s in samples if now - s.at <= stale_after_s]
    if not fresh:
        return NEUTRAL
    n = len(fresh)
    return Mood(
        valence=sum(s.valence for s in fresh) / n,
        arousal=sum(s.arousal for s in fresh) / n,
        engagement=sum(s.engagement for s in fresh) / n,
        viewers=n,
    )


def clamp(dimension: str, value: float) -> float:
    low, high = RANGES[dimension]
    return min(high, max(low, value))


__all__ = ["DIMENSIONS", "LEVELS", "NEUTRAL", "RANGES", "Mood", "Sample", "aggregate", "clamp"]
