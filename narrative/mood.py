"""The room's mood: per-viewer affect samples aggregated robustly into one reading.

This is the one implementation of the room mood: the `Screening` uses it for the `mood`
policy, variant conditions and the per-scene `MoodReport`; the server's mood meter and
``affect/`` use it through the Screening or directly.

Scales (the same ones `affect/` produces): valence −1 (unpleasant) … +1 (pleasant),
arousal −1 (calm) … +1 (excited), engagement 0 (elsewhere) … 1 (riveted); heart rate in
beats per minute, optional (only phones whose camera pulse estimate is confident send it).

Why a trimmed mean: a room is a handful to thousands of phones, and one phone can be
wrong in a big way (a child pulling faces, a face half out of frame that the quality
flags missed). Dropping the ``trim`` fraction of viewers at each end before averaging
keeps such a phone from dragging the room while still following the crowd. With
``trim=0.2`` the first viewer is dropped from each end once five phones contribute;
below that the trimmed mean is the plain mean (there is no crowd to be robust with).

Why only the latest fresh sample per phone: each phone counts once however often it
sends (1–2 Hz on-device, 2–4 Hz server-side), and a phone that stopped sending (camera
off, pocketed) must not pin the room to what it felt minutes ago: its last sample stops
counting ``stale_after_s`` after it was taken. Phones that left the room do not count.

Per scene (`SceneTally`), each viewer's samples are first averaged per viewer (a phone
sending 4 Hz weighs the same as one sending 1 Hz), then the viewers are combined with
the same trimmed mean.

Pure: no clock reads (``now`` is an argument, room-clock seconds), no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from narrative.ids import DeviceId

STALE_AFTER_S = 15.0
TRIM = 0.2
HEART_RATE_RANGE_BPM = (30.0, 240.0)

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
    """One phone's affect at room-clock time ``at`` (in range: the Screening clamps)."""

    device: DeviceId
    valence: float
    arousal: float
    engagement: float
    at: float  # room clock, seconds
    heart_rate_bpm: float | None = None


@dataclass(frozen=True, slots=True)
class Summary:
    """One dimension over the viewers: trimmed ``mean``, ``spread`` (standard deviation
    across all contributing viewers: how divided the room is) and ``n`` viewers."""

    mean: float
    spread: float
    n: int


@dataclass(frozen=True, slots=True)
class Mood:
    """The room's aggregated affect.

    ``viewers``: phones whose fresh sample it is built from; ``present``: phones in the
    room (0 where unknown); ``spread``: standard deviation of valence, arousal and
    engagement across those viewers; ``heart_rate_bpm``: trimmed mean of the phones that
    measured one, else None.
    """

    valence: float
    arousal: float
    engagement: float
    viewers: int
    present: int = 0
    spread: tuple[float, float, float] = (0.0, 0.0, 0.0)
    heart_rate_bpm: float | None = None

    def get(self, dimension: str) -> float:
        value: float = getattr(self, dimension)
        return value

    @property
    def participation(self) -> float:
        """Share of the phones present whose camera contributes (0 in an empty room)."""
        return min(1.0, self.viewers / self.present) if self.present else 0.0


NEUTRAL = Mood(valence=0.0, arousal=0.0, engagement=0.5, viewers=0)


def trimmed_mean(values: Sequence[float], trim: float = TRIM) -> float:
    """Mean after dropping ``floor(trim * n)`` values from each end.

    The result always lies within ``[min(values), max(values)]``.

    Raises:
        ValueError: ``values`` is empty or ``trim`` is not in [0, 0.5).
    """
    _check_trim(trim)
    if not values:
        raise ValueError("trimmed mean of no values")
    ordered = sorted(values)
    k = int(trim * len(ordered))
    kept = ordered[k : len(ordered) - k]
    mean = math.fsum(kept) / len(kept)
    return min(kept[-1], max(kept[0], mean))  # fsum/len may round a hair outside


def summarise(values: Sequence[float], trim: float = TRIM) -> Summary:
    """Trimmed mean, population standard deviation and count of ``values`` (non-empty).

    Raises:
        ValueError: as `trimmed_mean`.
    """
    mean = trimmed_mean(values, trim)
    plain = math.fsum(values) / len(values)
    spread = math.sqrt(math.fsum((v - plain) ** 2 for v in values) / len(values))
    return Summary(mean=mean, spread=min(spread, (max(values) - min(values)) / 2), n=len(values))


def latest_fresh(
    samples: Iterable[Sample],
    *,
    now: float,
    present: Collection[str] | None = None,
    stale_after_s: float = STALE_AFTER_S,
) -> dict[DeviceId, Sample]:
    """The latest sample of each (present) device, if it is at most ``stale_after_s`` old.

    Raises:
        ValueError: ``stale_after_s`` is not positive.
    """
    if not stale_after_s > 0:
        raise ValueError(f"stale_after_s={stale_after_s!r} must be positive")
    latest: dict[DeviceId, Sample] = {}
    for s in samples:
        if (present is not None and s.device not in present) or now - s.at > stale_after_s:
            continue
        best = latest.get(s.device)
        if best is None or (s.at, _key(s)) > (best.at, _key(best)):
            latest[s.device] = s
    return latest


def aggregate(
    samples: Iterable[Sample],
    now: float,
    stale_after_s: float = STALE_AFTER_S,
    *,
    present: Collection[str] | None = None,
    trim: float = TRIM,
) -> Mood:
    """The room's mood from its phones' samples; `NEUTRAL` (with ``present``) when no
    phone contributes, so conditions over ``mood.*`` always have a value.

    Args:
        samples: any number per device, in any order; only each (present) device's
            latest fresh sample counts.
        now: room clock, seconds.
        stale_after_s: a sample older than this no longer counts.
        present: the devices in the room now (participation's denominator); None counts
            every device that sent a sample.
        trim: fraction dropped at each end of every dimension before averaging.

    Raises:
        ValueError: ``trim`` or ``stale_after_s`` out of range.
    """
    _check_trim(trim)
    latest = latest_fresh(samples, now=now, present=present, stale_after_s=stale_after_s)
    fresh = list(latest.values())
    n_present = len(present) if present is not None else len(fresh)
    if not fresh:
        return Mood(NEUTRAL.valence, NEUTRAL.arousal, NEUTRAL.engagement, 0, n_present)
    valence = summarise([s.valence for s in fresh], trim)
    arousal = summarise([s.arousal for s in fresh], trim)
    engagement = summarise([s.engagement for s in fresh], trim)
    rates = [s.heart_rate_bpm for s in fresh if s.heart_rate_bpm is not None]
    return Mood(
        valence=valence.mean,
        arousal=arousal.mean,
        engagement=engagement.mean,
        viewers=len(fresh),
        present=n_present,
        spread=(valence.spread, arousal.spread, engagement.spread),
        heart_rate_bpm=trimmed_mean(rates, trim) if rates else None,
    )


@dataclass(slots=True)
class _Sums:
    n: int = 0
    valence: float = 0.0
    arousal: float = 0.0
    engagement: float = 0.0
    hr_n: int = 0
    hr: float = 0.0

    def to_json(self) -> list[float]:
        return [self.n, self.valence, self.arousal, self.engagement, self.hr_n, self.hr]


@dataclass(slots=True)
class SceneTally:
    """Accumulates the samples taken while one scene plays (what `MoodReport` reports).

    Memory is a few numbers per viewer, however long the scene; ``snapshot``/``restore``
    round-trip exactly (sums of floats, JSON keeps every bit).
    """

    trim: float = TRIM
    _per_device: dict[DeviceId, _Sums] = field(default_factory=dict)

    def add(self, sample: Sample) -> None:
        sums = self._per_device.setdefault(sample.device, _Sums())
        sums.n += 1
        sums.valence += sample.valence
        sums.arousal += sample.arousal
        sums.engagement += sample.engagement
        if sample.heart_rate_bpm is not None:
            sums.hr_n += 1
            sums.hr += sample.heart_rate_bpm

    def clear(self) -> None:
        self._per_device.clear()

    @property
    def viewers(self) -> int:
        return len(self._per_device)

    @property
    def samples(self) -> int:
        return sum(s.n for s in self._per_device.values())

    def summary(self) -> Mood | None:
        """The scene's mood (``viewers``: phones that sent samples during it), or None."""
        sums = list(self._per_device.values())
        if not sums:
            return None
        dims = {
            name: summarise([clamp(name, getattr(s, name) / s.n) for s in sums], self.trim)
            for name in DIMENSIONS
        }
        rates = [s.hr / s.hr_n for s in sums if s.hr_n]
        return Mood(
            valence=dims["valence"].mean,
            arousal=dims["arousal"].mean,
            engagement=dims["engagement"].mean,
            viewers=len(sums),
            spread=(dims["valence"].spread, dims["arousal"].spread, dims["engagement"].spread),
            heart_rate_bpm=trimmed_mean(rates, self.trim) if rates else None,
        )

    def snapshot(self) -> dict[str, object]:
        """JSON-ready state; `SceneTally.restore` rebuilds an equal tally."""
        return {
            "trim": self.trim,
            "devices": [[d, *s.to_json()] for d, s in sorted(self._per_device.items())],
        }

    @classmethod
    def restore(cls, data: Mapping[str, object]) -> SceneTally:
        """Rebuild a tally from `snapshot` output.

        Raises:
            ValueError, TypeError, KeyError: not a tally snapshot.
        """
        devices = data["devices"]
        if not isinstance(devices, list):
            raise TypeError("tally snapshot 'devices' is not a list")
        tally = cls(trim=float(str(data["trim"])))
        for device, n, v, a, e, hr_n, hr in devices:
            tally._per_device[DeviceId(str(device))] = _Sums(
                int(n), float(v), float(a), float(e), int(hr_n), float(hr)
            )
        return tally


def clamp(dimension: str, value: float) -> float:
    low, high = RANGES[dimension]
    return min(high, max(low, value))


def _key(s: Sample) -> tuple[float, float, float, float]:
    # Two samples of one device at the same instant: pick deterministically, whatever order.
    hr = -1.0 if s.heart_rate_bpm is None else s.heart_rate_bpm
    return (s.valence, s.arousal, s.engagement, hr)


def _check_trim(trim: float) -> None:
    if not 0.0 <= trim < 0.5:
        raise ValueError(f"trim={trim!r} must be in [0, 0.5)")


__all__ = [
    "DIMENSIONS",
    "HEART_RATE_RANGE_BPM",
    "LEVELS",
    "NEUTRAL",
    "RANGES",
    "STALE_AFTER_S",
    "TRIM",
    "Mood",
    "Sample",
    "SceneTally",
    "Summary",
    "aggregate",
    "clamp",
    "latest_fresh",
    "summarise",
    "trimmed_mean",
]
