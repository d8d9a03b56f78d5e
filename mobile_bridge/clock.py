"""Clock sync: map a page's clock to the room clock from ping/pong samples (pure).

Theory of operation
-------------------
A page sends ``ping`` at ``t0`` on its own clock; the server stamps ``t1`` when the ping
arrives and ``t2`` when the ``pong`` leaves, both on the room clock; the page notes ``t3``
when the pong arrives, on its own clock. With forward delay ``a`` and return delay ``b``
(NTP, RFC 5905 §8)::

    offset = ((t1 - t0) + (t2 - t3)) / 2  = true offset + (a - b) / 2
    rtt    = (t3 - t0) - (t2 - t1)        = a + b

so the offset a sample gives is off by at most ``rtt / 2`` (``|a - b| <= a + b``), and it
is exact when the two legs took equally long. That bound is what `error_bound` reports.

**Min-RTT filtering.** Delay on a network path is a fixed minimum plus time spent in
queues (Wi-Fi retries, a busy event loop, a congested uplink), and queueing is what makes
the legs unequal. The sample with the smallest RTT in the window is the one that queued
least, so its bound is the tightest and its error usually the smallest; averaging all
samples would instead mix in every queue the pings met. The anchor is the sample with
the smallest *distance*: ``rtt / 2`` plus what the clocks may have drifted since it was
taken (NTP's dispersion), so a fresh sample beats a marginally shorter stale one.

**Drift.** Two crystals disagree by up to a few hundred ppm, so the offset moves
slowly. Once the best half of the window (by RTT) spans `min_drift_span_s` of page
time, the least-squares slope of their offsets over page time is the drift; it is
clamped to ``±max_drift`` (a larger slope means noise, not crystals) and extrapolates
`room_time` from the anchor between pings. Over a shorter span a slope would mostly be
noise (50 µs of jitter over a 10 ms burst reads as 5,000 ppm), so drift stays 0.

**Bound.** If the true drift is within ``±max_drift``, `room_time` is off by at most
`error_bound_at` (``rtt / 2`` of the anchor, plus ``max_drift`` times the anchor's own
round trip, plus the possible drift error times the time since the anchor); property
tests check this against simulated clocks. On loopback the target is an offset error
of at most 2 ms (`tests/mobile_bridge/test_client.py` measures it over real sockets).

Nothing here reads a clock: every time is an argument, in seconds.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

DEFAULT_MAX_DRIFT = 500e-6  # ±500 ppm: far beyond any working crystal, tight enough to matter


class ClockNotSynced(RuntimeError):
    """`ClockSync` was asked for a time before it had a single sample."""

    code = "not-synced"

    def __init__(self) -> None:
        super().__init__("not-synced: no ping/pong sample yet")


@dataclass(frozen=True, slots=True)
class Sample:
    """One ping/pong exchange: ``t0``/``t3`` on the page clock, ``t1``/``t2`` on the room's."""

    t0: float
    t1: float
    t2: float
    t3: float

    @property
    def offset(self) -> float:
        """Room clock minus page clock at `midpoint`, within ``rtt / 2``."""
        return ((self.t1 - self.t0) + (self.t2 - self.t3)) / 2

    @property
    def rtt(self) -> float:
        """Time on the wire both ways, without the server's own processing time."""
        return (self.t3 - self.t0) - (self.t2 - self.t1)

    @property
    def midpoint(self) -> float:
        """The page time the offset refers to."""
        return (self.t0 + self.t3) / 2


class ClockSync:
    """Estimates room time from page time using the last ``window`` samples.

    Args:
        window: how many recent samples are kept (the oldest falls out).
        min_samples: how many samples make the estimate `synced`.
        max_drift: the largest clock rate difference believed, as a fraction (500e-6 is
            500 ppm); bounds the drift estimate and widens `error_bound_at` with time.
        min_drift_span_s: page time the best samples must span before drift is fitted.

    Raises:
        ValueError: a parameter out of range.
    """

    def __init__(
        self,
        window: int = 16,
        *,
        min_samples: int = 4,
        max_drift: float = DEFAULT_MAX_DRIFT,
        min_drift_span_s: float = 30.0,
    ) -> None:
        if window < 1:
            raise ValueError(f"window must be at least 1, not {window}")
        if not 1 <= min_samples <= window:
            raise ValueError(f"min_samples must be within 1..{window}, not {min_samples}")
        if not 0 <= max_drift < 0.01:
            raise ValueError(f"max_drift must be within [0, 0.01), not {max_drift}")
        if not min_drift_span_s > 0:
            raise ValueError(f"min_drift_span_s must be positive, not {min_drift_span_s}")
        self.window = window
        self.min_samples = min_samples
        self.max_drift = max_drift
        self.min_drift_span_s = min_drift_span_s
        self._samples: deque[Sample] = deque(maxlen=window)
        self._anchor: Sample | None = None
        self._drift = 0.0
        self._drift_fitted = False

    # -- feeding -----------------------------------------------------------------------

    def add(self, t0: float, t1: float, t2: float, t3: float) -> Sample:
        """Record one exchange and update the estimate.

        Raises:
            ValueError: a time is not finite, the pong came back before the ping left
                (``t3 < t0``), the server sent before it received (``t2 < t1``), or the
                server held the ping longer than the whole round trip (negative RTT).
        """
        if not all(math.isfinite(t) for t in (t0, t1, t2, t3)):
            raise ValueError(f"sample times must be finite: {(t0, t1, t2, t3)}")
        if t3 < t0:
            raise ValueError(f"pong received (t3={t3}) before the ping was sent (t0={t0})")
        if t2 < t1:
            raise ValueError(f"pong sent (t2={t2}) before the ping arrived (t1={t1})")
        sample = Sample(t0, t1, t2, t3)
        if sample.rtt < 0:
            raise ValueError(
                f"negative round trip {sample.rtt:.6f} s: the server held the ping "
                f"{t2 - t1:.6f} s of a {t3 - t0:.6f} s exchange"
            )
        self._samples.append(sample)
        self._update()
        return sample

    def reset(self) -> None:
        """Forget every sample (for a room clock that jumped)."""
        self._samples.clear()
        self._anchor = None
        self._drift = 0.0
        self._drift_fitted = False

    # -- reading -----------------------------------------------------------------------

    @property
    def samples(self) -> tuple[Sample, ...]:
        return tuple(self._samples)

    @property
    def synced(self) -> bool:
        """Whether at least ``min_samples`` samples are in the window."""
        return len(self._samples) >= self.min_samples

    @property
    def best(self) -> Sample:
        """The anchor sample (see the module docstring).

        Raises:
            ClockNotSynced: no sample yet.
        """
        if self._anchor is None:
            raise ClockNotSynced()
        return self._anchor

    @property
    def offset(self) -> float:
        """Room clock minus page clock at the anchor's midpoint (see `offset_at`)."""
        return self.best.offset

    @property
    def rtt(self) -> float:
        """Round trip of the anchor sample, in seconds."""
        return self.best.rtt

    @property
    def drift_ppm(self) -> float:
        """How much faster the room clock runs than the page's, in ppm (0 until fitted)."""
        return self._drift * 1e6

    @property
    def drift_fitted(self) -> bool:
        """Whether the samples spanned enough time for a drift estimate."""
        return self._drift_fitted

    @property
    def error_bound(self) -> float:
        """How far `offset` can be from the truth at the anchor's midpoint, in seconds."""
        best = self.best
        return best.rtt / 2 + self.max_drift * (best.t3 - best.t0) / 2

    def error_bound_at(self, page_time: float) -> float:
        """How far `room_time(page_time)` can be from the truth, in seconds."""
        return self._bound(self.best, page_time)

    def offset_at(self, page_time: float) -> float:
        """Room clock minus page clock at ``page_time``, drift included."""
        best = self.best
        return best.offset + self._drift * (page_time - best.midpoint)

    def room_time(self, page_time: float) -> float:
        """The room clock reading at ``page_time`` on the page clock.

        Raises:
            ClockNotSynced: no sample yet.
        """
        return page_time + self.offset_at(page_time)

    def page_time(self, room_time: float) -> float:
        """The page clock reading when the room clock reads ``room_time`` (a deadline).

        Raises:
            ClockNotSynced: no sample yet.
        """
        best = self.best
        return (room_time - best.offset + self._drift * best.midpoint) / (1 + self._drift)

    # -- estimate ----------------------------------------------------------------------

    def _bound(self, sample: Sample, page_time: float) -> float:
        # A fitted slope may be wrong by up to 2 * max_drift (true and fitted drift at
        # opposite clamps); an unfitted one (0) by up to max_drift.
        slope_error = self.max_drift * (2 if self._drift_fitted else 1)
        return (
            sample.rtt / 2
            + self.max_drift * (sample.t3 - sample.t0) / 2
            + slope_error * abs(page_time - sample.midpoint)
        )

    def _update(self) -> None:
        self._drift, self._drift_fitted = self._fit_drift()
        newest = max(s.t3 for s in self._samples)
        self._anchor = min(self._samples, key=lambda s: self._bound(s, newest))

    def _fit_drift(self) -> tuple[float, bool]:
        by_rtt = sorted(self._samples, key=lambda s: s.rtt)
        best = by_rtt[: max(2, len(by_rtt) // 2)]
        if len(best) < 2:
            return 0.0, False
        times = [s.midpoint for s in best]
        if max(times) - min(times) < self.min_drift_span_s:
            return 0.0, False
        mean_t = math.fsum(times) / len(best)
        mean_o = math.fsum(s.offset for s in best) / len(best)
        num = math.fsum((s.midpoint - mean_t) * (s.offset - mean_o) for s in best)
        den = math.fsum((t - mean_t) ** 2 for t in times)
        slope = num / den
        return max(-self.max_drift, min(self.max_drift, slope)), True


class OffsetCeiling:
    """The server's side of a page's clock: the latest room time a page-clock instant can be.

    A ping sent at page time ``t0`` arrived at room time ``t1``, so room = page + offset
    with ``offset <= t1 - t0``, whatever the network did. The smallest such bound over the
    page's recent pings maps a page-clock instant (a vote's ``cast_t``) to the latest room
    time it can have been: an honest page is judged late by its quickest ping's forward
    delay at most, never early. The bound needs nothing from the page but its pings, so a
    page that lies about ``cast_t`` gains no more than the room's grace
    (`narrative.screening`). Only recent pings count, so slow drift cannot accumulate.

    Args:
        window: how many recent pings count.
    """

    def __init__(self, window: int = 16) -> None:
        if window < 1:
            raise ValueError(f"window must be at least 1, not {window}")
        self._bounds: deque[float] = deque(maxlen=window)

    def ping(self, t0: float, t1: float) -> None:
        """A ping sent at page time ``t0`` arrived at room time ``t1``."""
        if math.isfinite(t0) and math.isfinite(t1):
            self._bounds.append(t1 - t0)

    def latest(self, page_time: float) -> float | None:
        """The latest room time ``page_time`` can be; None before any ping."""
        if not self._bounds or not math.isfinite(page_time):
            return None
        return page_time + min(self._bounds)


__all__ = ["DEFAULT_MAX_DRIFT", "ClockNotSynced", "ClockSync", "OffsetCeiling", "Sample"]
