"""The room's mood: per-viewer affect samples aggregated robustly into one reading.

This is the one implementation of the room mood. The shell (the server's `Room`) keeps
each phone's latest sample in memory only (`LiveMood`) and aggregates it here; the
`Screening` is fed only the resulting room-level readings (`narrative.events.RoomMood`),
which drive the `mood` policy, variant conditions and the per-scene `MoodReport`
(`SceneTally`: the room's readings, time-weighted over the scene). So what is logged and
snapshotted is the room's mood over time, never a phone's numbers.

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

Per scene (`SceneTally`), the room's readings are averaged weighted by how long each was
the room's mood, counting only time when at least one camera contributed.

Pure: no clock reads (``now`` is an argument, room-clock seconds), no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

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


class LiveMood:
    """Each present phone's latest affect sample, held by the shell in memory only.

    The room (`server.rooms.room.Room`) keeps one: a phone's sample replaces its earlier
    one, `drop` forgets a phone that left, and a sample older than ``stale_after_s`` no
    longer counts (a camera switched off simply stops sending). `reading` is the room's
    mood (`aggregate`); only that room-level reading reaches the `Screening` (as a
    `narrative.events.RoomMood` event) and so the event log and snapshots: per-viewer
    numbers are never persisted (DESIGN.md, "Affect").
    """

    __slots__ = ("_latest", "stale_after_s", "trim")

    def __init__(self, *, stale_after_s: float = STALE_AFTER_S, trim: float = TRIM) -> None:
        _check_trim(trim)
        self.stale_after_s = stale_after_s
        self.trim = trim
        self._latest: dict[DeviceId, Sample] = {}

    def add(self, sample: Sample) -> None:
        """Record ``sample`` (clamped to the scales) unless the phone has a later one."""
        sample = clean(sample)
        best = self._latest.get(sample.device)
        if best is None or (sample.at, _key(sample)) >= (best.at, _key(best)):
            self._latest[sample.device] = sample

    def drop(self, device: str) -> None:
        """Forget a phone (it left the room)."""
        self._latest.pop(DeviceId(device), None)

    def expire(self, now: float) -> None:
        """Forget the samples that no longer count (bounded memory for idle cameras)."""
        stale = [d for d, s in self._latest.items() if now - s.at > self.stale_after_s]
        for device in stale:
            del self._latest[device]

    def __len__(self) -> int:
        return len(self._latest)

    def reading(self, now: float, present: Collection[str] | None = None) -> Mood:
        """The room's mood now (`aggregate` of the latest fresh samples)."""
        return aggregate(
            self._latest.values(), now, self.stale_after_s, present=present, trim=self.trim
        )


def clean(sample: Sample) -> Sample:
    """``sample`` with each dimension clamped to its range and an impossible heart rate
    clamped to `HEART_RATE_RANGE_BPM` (a non-finite one dropped)."""
    low, high = HEART_RATE_RANGE_BPM
    hr = sample.heart_rate_bpm
    if hr is not None:
        hr = min(high, max(low, hr)) if math.isfinite(hr) else None
    return Sample(
        sample.device,
        clamp("valence", sample.valence),
        clamp("arousal", sample.arousal),
        clamp("engagement", sample.engagement),
        sample.at,
        hr,
    )


@dataclass(slots=True)
class SceneTally:
    """The room's mood over one scene, from the room-level readings (what `MoodReport`
    reports).

    Time-weighted: each reading counts for as long as it was the room's mood, and only
    while at least one camera contributed (a reading of nobody is no evidence of how the
    room felt). A burst of readings while the mood moves does not outweigh a long calm
    stretch with none, which a plain mean of readings would. ``viewers`` is the most
    cameras any such reading counted. No per-viewer state: a few numbers per scene;
    ``snapshot``/``restore`` round-trip exactly (sums of floats, JSON keeps every bit).
    """

    current: Mood = NEUTRAL
    since: float = 0.0
    seconds: float = 0.0
    valence: float = 0.0
    arousal: float = 0.0
    engagement: float = 0.0
    viewers: int = 0
    readings: int = 0

    def start(self, at: float, current: Mood) -> None:
        """A new scene starts at ``at`` with the room's mood ``current``."""
        self.current, self.since = current, at
        self.seconds = self.valence = self.arousal = self.engagement = 0.0
        self.viewers = self.readings = 0

    def observe(self, mood: Mood, at: float) -> None:
        """The room's mood became ``mood`` at ``at`` (not before `since`)."""
        self._close(at)
        self.current, self.since = mood, max(self.since, at)
        self.readings += 1

    def _close(self, at: float) -> None:
        dt = at - self.since
        if dt > 0 and self.current.viewers > 0:
            self.seconds += dt
            self.valence += self.current.valence * dt
            self.arousal += self.current.arousal * dt
            self.engagement += self.current.engagement * dt
            self.viewers = max(self.viewers, self.current.viewers)
        self.since = max(self.since, at)

    def summary(self, at: float) -> Mood | None:
        """The scene's mood up to ``at`` (``viewers``: the most cameras counted), or None
        when no camera contributed for any time."""
        copy = SceneTally.restore(self.snapshot())
        copy._close(at)
        if copy.seconds <= 0:
            return None
        return Mood(
            valence=clamp("valence", copy.valence / copy.seconds),
            arousal=clamp("arousal", copy.arousal / copy.seconds),
            engagement=clamp("engagement", copy.engagement / copy.seconds),
            viewers=copy.viewers,
        )

    def snapshot(self) -> dict[str, object]:
        """JSON-ready state; `SceneTally.restore` rebuilds an equal tally."""
        c = self.current
        return {
            "current": [c.valence, c.arousal, c.engagement, c.viewers, c.present, c.heart_rate_bpm],
            "since": self.since,
            "sums": [self.seconds, self.valence, self.arousal, self.engagement],
            "viewers": self.viewers,
            "readings": self.readings,
        }

    @classmethod
    def restore(cls, data: Mapping[str, object]) -> SceneTally:
        """Rebuild a tally from `snapshot` output.

        Raises:
            ValueError, TypeError, KeyError: not a tally snapshot.
        """
        current, sums = data["current"], data["sums"]
        if not isinstance(current, list) or not isinstance(sums, list):
            raise TypeError("tally snapshot 'current'/'sums' are not lists")
        seconds, valence, arousal, engagement = (float(x) for x in sums)
        return cls(
            current=mood_from_json(current),
            since=float(str(data["since"])),
            seconds=seconds,
            valence=valence,
            arousal=arousal,
            engagement=engagement,
            viewers=int(str(data["viewers"])),
            readings=int(str(data["readings"])),
        )


def mood_to_json(mood: Mood) -> list[object]:
    """``[valence, arousal, engagement, viewers, present, heart_rate_bpm]`` (no spread)."""
    return [mood.valence, mood.arousal, mood.engagement, mood.viewers, mood.present,
            mood.heart_rate_bpm]  # fmt: skip


def mood_from_json(row: Sequence[object]) -> Mood:
    """The `Mood` of `mood_to_json` output.

    Raises:
        ValueError, TypeError: not such a row.
    """
    valence, arousal, engagement, viewers, present, hr = row
    return Mood(
        float(str(valence)), float(str(arousal)), float(str(engagement)),
        int(str(viewers)), int(str(present)), heart_rate_bpm=None if hr is None else float(str(hr)),
    )  # fmt: skip


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
    "LiveMood",
    "Mood",
    "Sample",
    "SceneTally",
    "Summary",
    "aggregate",
    "clamp",
    "clean",
    "latest_fresh",
    "mood_from_json",
    "mood_to_json",
    "summarise",
    "trimmed_mean",
]
