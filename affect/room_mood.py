"""The room's mood: robust aggregation of per-viewer affect over the phones of a room.

Scales are the ones `narrative.mood` documents: valence −1 (unpleasant) … +1 (pleasant),
arousal −1 (calm) … +1 (excited), engagement 0 (elsewhere) … 1 (riveted); heart rate in
beats per minute, optional (only phones whose camera pulse estimate is confident send it).

Why a trimmed mean: a room is a handful to thousands of phones, and one phone can be
wrong in a big way (a child pulling faces, a face half out of frame that the quality
flags missed). Dropping the ``trim`` fraction of viewers at each end before averaging
keeps such a phone from dragging the room while still following the crowd. With
``trim=0.2`` the first viewer is dropped from each end once five phones contribute;
below that the trimmed mean is the plain mean (there is no crowd to be robust with).

Why only the latest fresh sample per phone: each phone counts once however often it
sends (2 Hz on-device, 2–4 Hz server-side), and a phone that stopped sending (camera off,
pocketed) must not pin the room to what it felt minutes ago: its last sample stops
counting ``stale_after_s`` after it was taken. Phones that left the room do not count.

Pure: no clock reads (``now`` is an argument, room-clock seconds), no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from affect.errors import SampleError

STALE_AFTER_S = 15.0
TRIM = 0.2
HEART_RATE_RANGE_BPM = (30.0, 240.0)

_RANGES: dict[str, tuple[float, float]] = {
    "valence": (-1.0, 1.0),
    "arousal": (-1.0, 1.0),
    "engagement": (0.0, 1.0),
}


@dataclass(frozen=True, slots=True)
class ViewerSample:
    """One phone's affect at room-clock time ``at`` (already baseline-normalised)."""

    device: str
    valence: float
    arousal: float
    engagement: float
    at: float
    heart_rate_bpm: float | None = None

    def __post_init__(self) -> None:
        for name, (low, high) in _RANGES.items():
            value = getattr(self, name)
            if not (math.isfinite(value) and low <= value <= high):
                raise SampleError(f"{name}={value!r} outside [{low}, {high}]", where=self.device)
        if not math.isfinite(self.at):
            raise SampleError(f"at={self.at!r} is not a time", where=self.device)
        hr = self.heart_rate_bpm
        low, high = HEART_RATE_RANGE_BPM
        if hr is not None and not (math.isfinite(hr) and low <= hr <= high):
            raise SampleError(f"heart_rate_bpm={hr!r} outside [{low}, {high}]", where=self.device)


@dataclass(frozen=True, slots=True)
class Summary:
    """One dimension over the viewers: trimmed ``mean``, ``spread`` (standard deviation
    across all contributing viewers: how divided the room is) and ``n`` viewers."""

    mean: float
    spread: float
    n: int


@dataclass(frozen=True, slots=True)
class RoomMood:
    """The room at one instant; ``heart_rate_bpm`` is None when no phone sent one."""

    valence: Summary
    arousal: Summary
    engagement: Summary
    heart_rate_bpm: Summary | None
    contributing: int
    present: int
    at: float

    @property
    def participation(self) -> float:
        """Share of the phones present whose camera contributes (0 in an empty room)."""
        return self.contributing / self.present if self.present else 0.0


def trimmed_mean(values: Sequence[float], trim: float = TRIM) -> float:
    """Mean after dropping ``floor(trim * n)`` values from each end.

    The result always lies within ``[min(values), max(values)]``.

    Raises:
        SampleError: ``values`` is empty or ``trim`` is not in [0, 0.5).
    """
    _check_trim(trim)
    if not values:
        raise SampleError("trimmed mean of no values")
    ordered = sorted(values)
    k = int(trim * len(ordered))
    kept = ordered[k : len(ordered) - k]
    mean = math.fsum(kept) / len(kept)
    return min(ordered[-1], max(ordered[0], mean))  # fsum/len may round a hair outside


def summarise(values: Sequence[float], trim: float = TRIM) -> Summary:
    """Trimmed mean, population standard deviation and count of ``values`` (non-empty)."""
    mean = trimmed_mean(values, trim)
    plain = math.fsum(values) / len(values)
    spread = math.sqrt(math.fsum((v - plain) ** 2 for v in values) / len(values))
    return Summary(mean=mean, spread=min(spread, (max(values) - min(values)) / 2), n=len(values))


def latest_fresh(
    samples: Iterable[ViewerSample],
    *,
    present: Collection[str],
    now: float,
    stale_after_s: float = STALE_AFTER_S,
) -> dict[str, ViewerSample]:
    """The latest sample of each present device, if it is at most ``stale_after_s`` old."""
    if not stale_after_s > 0:
        raise SampleError(f"stale_after_s={stale_after_s!r} must be positive")
    latest: dict[str, ViewerSample] = {}
    for s in samples:
        if s.device not in present or now - s.at > stale_after_s:
            continue
        best = latest.get(s.device)
        if best is None or (s.at, _key(s)) > (best.at, _key(best)):
            latest[s.device] = s
    return latest


def aggregate(
    samples: Iterable[ViewerSample],
    *,
    present: Collection[str],
    now: float,
    stale_after_s: float = STALE_AFTER_S,
    trim: float = TRIM,
) -> RoomMood | None:
    """The room's mood from its phones' samples, or None when no phone contributes.

    Args:
        samples: any number per device, in any order; only each present device's latest
            fresh sample counts.
        present: the devices in the room now (participation's denominator).
        now: room clock, seconds.
        stale_after_s: a sample older than this no longer counts.
        trim: fraction dropped at each end of every dimension before averaging.

    Raises:
        SampleError: ``trim`` or ``stale_after_s`` out of range.
    """
    _check_trim(trim)
    latest = latest_fresh(samples, present=present, now=now, stale_after_s=stale_after_s)
    fresh = list(latest.values())
    if not fresh:
        return None
    rates = [s.heart_rate_bpm for s in fresh if s.heart_rate_bpm is not None]
    return RoomMood(
        valence=summarise([s.valence for s in fresh], trim),
        arousal=summarise([s.arousal for s in fresh], trim),
        engagement=summarise([s.engagement for s in fresh], trim),
        heart_rate_bpm=summarise(rates, trim) if rates else None,
        contributing=len(fresh),
        present=len(present),
        at=now,
    )


@dataclass(frozen=True, slots=True)
class SceneSummary:
    """The mood over one whole scene: what the host report plots and what is persisted."""

    scene: str
    valence: Summary
    arousal: Summary
    engagement: Summary
    heart_rate_bpm: Summary | None
    viewers: int
    samples: int


@dataclass(slots=True)
class _Sums:
    n: int = 0
    valence: float = 0.0
    arousal: float = 0.0
    engagement: float = 0.0
    hr_n: int = 0
    hr: float = 0.0


@dataclass(slots=True)
class SceneTally:
    """Accumulates the samples taken while one scene plays.

    Each viewer's samples are first averaged per viewer (a phone sending 4 Hz weighs the
    same as one sending 1 Hz), then the viewers are combined with the trimmed mean. Memory
    is a few numbers per viewer, however long the scene.
    """

    scene: str
    trim: float = TRIM
    _per_device: dict[str, _Sums] = field(default_factory=dict)

    def add(self, sample: ViewerSample) -> None:
        sums = self._per_device.setdefault(sample.device, _Sums())
        sums.n += 1
        sums.valence += sample.valence
        sums.arousal += sample.arousal
        sums.engagement += sample.engagement
        if sample.heart_rate_bpm is not None:
            sums.hr_n += 1
            sums.hr += sample.heart_rate_bpm

    def summary(self) -> SceneSummary | None:
        """The scene's summary, or None when no viewer contributed during it."""
        sums = list(self._per_device.values())
        if not sums:
            return None
        rates = [s.hr / s.hr_n for s in sums if s.hr_n]
        return SceneSummary(
            scene=self.scene,
            valence=summarise([_bounded(s.valence / s.n, "valence") for s in sums], self.trim),
            arousal=summarise([_bounded(s.arousal / s.n, "arousal") for s in sums], self.trim),
            engagement=summarise(
                [_bounded(s.engagement / s.n, "engagement") for s in sums], self.trim
            ),
            heart_rate_bpm=summarise(rates, self.trim) if rates else None,
            viewers=len(sums),
            samples=sum(s.n for s in sums),
        )

    def snapshot(self) -> dict[str, object]:
        """JSON-ready state; `SceneTally.restore` rebuilds an equal tally."""
        return {
            "scene": self.scene,
            "trim": self.trim,
            "devices": {
                d: [s.n, s.valence, s.arousal, s.engagement, s.hr_n, s.hr]
                for d, s in sorted(self._per_device.items())
            },
        }

    @classmethod
    def restore(cls, data: Mapping[str, object]) -> SceneTally:
        devices = data["devices"]
        if not isinstance(devices, Mapping):
            raise SampleError("snapshot 'devices' is not a mapping")
        tally = cls(scene=str(data["scene"]), trim=float(str(data["trim"])))
        for device, (n, v, a, e, hr_n, hr) in devices.items():
            tally._per_device[str(device)] = _Sums(int(n), v, a, e, int(hr_n), hr)
        return tally


def _bounded(value: float, dimension: str) -> float:
    low, high = _RANGES[dimension]
    return min(high, max(low, value))


def _key(s: ViewerSample) -> tuple[float, float, float, float]:
    # Two samples of one device at the same instant: pick deterministically, whatever order.
    hr = -1.0 if s.heart_rate_bpm is None else s.heart_rate_bpm
    return (s.valence, s.arousal, s.engagement, hr)


def _check_trim(trim: float) -> None:
    if not 0.0 <= trim < 0.5:
        raise SampleError(f"trim={trim!r} must be in [0, 0.5)")


__all__ = [
    "HEART_RATE_RANGE_BPM",
    "STALE_AFTER_S",
    "TRIM",
    "RoomMood",
    "SceneSummary",
    "SceneTally",
    "Summary",
    "ViewerSample",
    "aggregate",
    "latest_fresh",
    "summarise",
    "trimmed_mean",
]
