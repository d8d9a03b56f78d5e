"""Per-viewer baseline: read each face against its own resting state.

Faces differ at rest: some look stern, some half-smile, some have brows that read as
worried to a classifier trained on posed expressions. Averaging raw readings over a
room would let a few habitually frowning faces pull its valence down for the whole film.
So each viewer's readings are re-centred on that viewer's own running mean:

- **calibration** (the first ``calibration_s`` seconds of a viewer's usable samples): an
  equal-weight running mean and variance (Welford), so the opening seconds settle fast;
- **afterwards**: an exponential moving average with time constant ``tau_s`` (weights by
  elapsed time, not by sample count, so 2 Hz and 4 Hz phones adapt alike). The long time
  constant (5 min by default) follows a viewer who slumps in their seat, but not the
  film's own swings, which last seconds to a minute.

A reading is compared with the baseline *before* that reading joins it. The first
reading of a viewer therefore reads as neutral, and readings stay flagged
``calibrated=False`` until calibration ends. Limitation, stated: a viewer who laughs
through the whole calibration period is read as calmer than they are until the slow
average catches up; the room's trimmed mean makes one such viewer harmless.

Heart rate gets the same treatment, reported as beats per minute above or below the
viewer's own resting rate.

Pure: time is an argument (room-clock seconds); quality-flagged samples must not be fed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from affect.errors import SampleError

CALIBRATION_S = 20.0
TAU_S = 300.0
MIN_STD = 0.05  # valence/arousal units: below this a z-score would only amplify noise


@dataclass(slots=True)
class _Channel:
    """Running mean and variance of one quantity: Welford while calibrating, then EMA."""

    started_at: float | None = None
    last_at: float = 0.0
    n: int = 0
    mean: float = 0.0
    var: float = 0.0

    def update(self, x: float, now: float, calibration_s: float, tau_s: float) -> None:
        if self.started_at is None:
            self.started_at = now
        if now - self.started_at < calibration_s or self.n == 0:
            self.n += 1
            delta = x - self.mean
            self.mean += delta / self.n
            # population variance, updated in place (Welford)
            self.var += (delta * (x - self.mean) - self.var) / self.n
        else:
            self.n += 1
            alpha = 1.0 - math.exp(-max(0.0, now - self.last_at) / tau_s)
            delta = x - self.mean
            self.mean += alpha * delta
            self.var = (1.0 - alpha) * (self.var + alpha * delta * delta)
        self.last_at = max(self.last_at, now)

    def calibrated(self, now: float, calibration_s: float) -> bool:
        return self.started_at is not None and now - self.started_at >= calibration_s

    def as_list(self) -> list[float | None]:
        return [self.started_at, self.last_at, float(self.n), self.mean, self.var]


@dataclass(frozen=True, slots=True)
class Normalised:
    """A reading relative to the viewer's baseline.

    ``valence``/``arousal`` are the deviations, clamped to [-1, 1] (what the room mood
    averages); ``*_z`` are the same in units of the viewer's own spread;
    ``heart_rate_delta_bpm`` is None when the reading had no heart rate.
    """

    valence: float
    arousal: float
    valence_z: float
    arousal_z: float
    heart_rate_delta_bpm: float | None
    calibrated: bool


class Baseline:
    """One viewer's baseline; feed it that viewer's usable readings in time order."""

    __slots__ = ("_arousal", "_hr", "_valence", "calibration_s", "tau_s")

    def __init__(self, calibration_s: float = CALIBRATION_S, tau_s: float = TAU_S) -> None:
        if not (calibration_s >= 0 and tau_s > 0):
            raise SampleError(f"calibration_s={calibration_s!r}, tau_s={tau_s!r} out of range")
        self.calibration_s = calibration_s
        self.tau_s = tau_s
        self._valence = _Channel()
        self._arousal = _Channel()
        self._hr = _Channel()

    def observe(
        self, valence: float, arousal: float, heart_rate_bpm: float | None, now: float
    ) -> Normalised:
        """Normalise one reading against the baseline so far, then fold it in.

        Raises:
            SampleError: a value is NaN or infinite.
        """
        for name, value in (("valence", valence), ("arousal", arousal), ("now", now)):
            if not math.isfinite(value):
                raise SampleError(f"{name}={value!r} is not finite")
        if heart_rate_bpm is not None and not math.isfinite(heart_rate_bpm):
            heart_rate_bpm = None
        out = Normalised(
            valence=_deviation(self._valence, valence),
            arousal=_deviation(self._arousal, arousal),
            valence_z=_z(self._valence, valence, MIN_STD),
            arousal_z=_z(self._arousal, arousal, MIN_STD),
            heart_rate_delta_bpm=(
                None
                if heart_rate_bpm is None
                else (heart_rate_bpm - self._hr.mean if self._hr.n else 0.0)
            ),
            calibrated=self._valence.calibrated(now, self.calibration_s),
        )
        self._valence.update(valence, now, self.calibration_s, self.tau_s)
        self._arousal.update(arousal, now, self.calibration_s, self.tau_s)
        if heart_rate_bpm is not None:
            self._hr.update(heart_rate_bpm, now, self.calibration_s, self.tau_s)
        return out

    @property
    def resting(self) -> tuple[float, float, float | None]:
        """The viewer's baseline valence, arousal and heart rate (None before one)."""
        return (self._valence.mean, self._arousal.mean, self._hr.mean if self._hr.n else None)

    def snapshot(self) -> dict[str, object]:
        """JSON-ready state; `Baseline.restore` rebuilds one that normalises identically."""
        return {
            "calibration_s": self.calibration_s,
            "tau_s": self.tau_s,
            "valence": self._valence.as_list(),
            "arousal": self._arousal.as_list(),
            "heart_rate": self._hr.as_list(),
        }

    @classmethod
    def restore(cls, data: Mapping[str, object]) -> Baseline:
        baseline = cls(float(str(data["calibration_s"])), float(str(data["tau_s"])))
        for attr, key in (("_valence", "valence"), ("_arousal", "arousal"), ("_hr", "heart_rate")):
            raw = data[key]
            if not isinstance(raw, list) or len(raw) != 5:
                raise SampleError(f"snapshot {key!r} is not a 5-item list")
            started, last, n, mean, var = raw
            setattr(baseline, attr, _Channel(started, last, int(n), mean, var))
        return baseline


def _deviation(channel: _Channel, x: float) -> float:
    return min(1.0, max(-1.0, x - channel.mean if channel.n else 0.0))


def _z(channel: _Channel, x: float, min_std: float) -> float:
    if not channel.n:
        return 0.0
    return (x - channel.mean) / max(math.sqrt(max(channel.var, 0.0)), min_std)


__all__ = ["CALIBRATION_S", "MIN_STD", "TAU_S", "Baseline", "Normalised"]
