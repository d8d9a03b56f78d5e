"""Clock sync against simulated clocks: known offset, drift and queueing delays."""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mobile_bridge.clock import DEFAULT_MAX_DRIFT, ClockNotSynced, ClockSync

PURE_BANNED = {"asyncio", "socket", "time", "logging", "os", "secrets", "random", "websockets"}


@dataclass(frozen=True)
class TrueClock:
    """The room clock as a function of the page clock: R(p) = offset + (1 + drift) * p."""

    offset: float
    drift: float

    def room(self, page: float) -> float:
        return self.offset + (1 + self.drift) * page

    def exchange(self, t0: float, up: float, held: float, down: float):
        """A ping sent at page time t0 spends ``up`` s on the way (room seconds), is held
        ``held`` s by the server and spends ``down`` s on the way back."""
        t1 = self.room(t0) + up
        t2 = t1 + held
        t3 = (t2 + down - self.offset) / (1 + self.drift)
        return t0, t1, t2, t3


offsets = st.floats(-1000, 1000, allow_nan=False)
drifts = st.floats(-DEFAULT_MAX_DRIFT, DEFAULT_MAX_DRIFT, allow_nan=False)
delays = st.floats(20e-6, 0.5, allow_nan=False)  # loopback to a congested phone uplink
helds = st.floats(0, 0.01, allow_nan=False)
exchanges = st.lists(
    st.tuples(st.floats(0.001, 15, allow_nan=False), delays, helds, delays),
    min_size=1,
    max_size=40,
)


def feed(clock: TrueClock, sync: ClockSync, plan, start: float = 5.0) -> float:
    page = start
    for gap, up, held, down in plan:
        page += gap
        sync.add(*clock.exchange(page, up, held, down))
        page = sync.samples[-1].t3
    return page


@given(offsets, drifts, exchanges, st.floats(0, 120, allow_nan=False))
def test_error_stays_within_the_bound_whatever_the_delays(offset, drift, plan, later):
    clock, sync = TrueClock(offset, drift), ClockSync()
    last = feed(clock, sync, plan)
    best = sync.best
    assert abs(sync.offset - (clock.room(best.midpoint) - best.midpoint)) <= sync.error_bound + 1e-9
    assert sync.error_bound <= best.rtt / 2 + DEFAULT_MAX_DRIFT * 1.1
    for page in (best.midpoint, last, last + later):
        error = abs(sync.room_time(page) - clock.room(page))
        assert error <= sync.error_bound_at(page) + 1e-9
        assert sync.page_time(sync.room_time(page)) == pytest.approx(page, abs=1e-9)


@given(offsets, st.lists(st.tuples(st.floats(0.001, 15), delays, helds), min_size=1, max_size=40))
def test_symmetric_delays_give_the_exact_offset(offset, plan):
    clock, sync = TrueClock(offset, 0.0), ClockSync()
    last = feed(clock, sync, [(gap, d, held, d) for gap, d, held in plan])
    for page in (last, last + 1.0, last + 600.0, 0.0):
        assert abs(sync.room_time(page) - clock.room(page)) <= 1e-9


@given(offsets, drifts, st.lists(st.tuples(delays, helds), min_size=8, max_size=40))
def test_drift_is_recovered_from_symmetric_samples_and_extrapolates_exactly(offset, drift, plan):
    clock, sync = TrueClock(offset, drift), ClockSync()
    last = feed(clock, sync, [(10.0, d, held, d) for d, held in plan])
    assert sync.drift_fitted
    assert sync.drift_ppm == pytest.approx(drift * 1e6, abs=1e-3)
    for page in (last, last + 10.0, last + 300.0):
        assert abs(sync.room_time(page) - clock.room(page)) <= 1e-9


@given(
    offsets,
    drifts,
    st.lists(
        st.tuples(st.floats(20e-6, 1e-3), st.floats(20e-6, 1e-3), helds),
        min_size=16,
        max_size=40,
    ),
)
def test_drift_is_recovered_through_jitter(offset, drift, plan):
    """Pings every 10 s with up to 1 ms of jitter on either leg: 10 s later the estimate
    is still well inside the 2 ms target, and the drift within 50 ppm."""
    clock, sync = TrueClock(offset, drift), ClockSync()
    last = feed(clock, sync, [(10.0, up, held, down) for up, down, held in plan])
    assert abs(sync.drift_ppm - drift * 1e6) <= 50
    assert abs(sync.room_time(last + 10.0) - clock.room(last + 10.0)) <= 2e-3


def test_min_rtt_sample_wins_over_queued_ones():
    clock, sync = TrueClock(100.0, 0.0), ClockSync()
    sync.add(*clock.exchange(1.0, 0.3, 0.001, 0.01))  # queued on the way up: +145 ms error
    sync.add(*clock.exchange(2.0, 0.0005, 0.001, 0.0005))
    sync.add(*clock.exchange(3.0, 0.01, 0.001, 0.4))  # queued on the way down
    assert sync.rtt == pytest.approx(0.001)
    assert sync.offset == pytest.approx(100.0, abs=1e-12)
    assert sync.error_bound == pytest.approx(0.0005, rel=1e-2)
    assert abs(sync.room_time(3.5) - 103.5) <= sync.error_bound_at(3.5)


def test_a_fresh_sample_beats_a_marginally_better_stale_one():
    clock, sync = TrueClock(0.0, 0.0), ClockSync()
    sync.add(*clock.exchange(0.0, 0.001, 0.0, 0.001))
    sync.add(*clock.exchange(100.0, 0.00105, 0.0, 0.00105))
    # 100 s at ±500 ppm could have moved the clocks 50 ms: the 0.1 ms better RTT of the
    # old sample does not make up for that.
    assert sync.best.t0 == 100.0


def test_drift_is_clamped_to_the_believed_range():
    sync = ClockSync(max_drift=100e-6)
    for page in range(0, 80, 10):
        t = float(page)
        bogus = 0.01 * t  # 10,000 ppm: a clock that was stepped, not a crystal
        sync.add(t, t + bogus, t + bogus, t)
    assert sync.drift_fitted
    assert sync.drift_ppm == pytest.approx(100.0)


def test_no_drift_is_fitted_from_a_short_burst():
    sync = ClockSync()
    for i in range(8):
        t = i * 0.002
        jitter = 50e-6 if i % 2 else -50e-6
        sync.add(t, t + 5.0 + jitter, t + 5.0 + jitter, t + 0.0002)
    assert not sync.drift_fitted
    assert sync.drift_ppm == 0.0


def test_synced_after_min_samples_and_window_is_bounded():
    sync = ClockSync(window=4, min_samples=3)
    assert not sync.synced
    for i in range(10):
        sync.add(i, i + 1, i + 1, i + 0.001)
        assert sync.synced == (i >= 2)
    assert len(sync.samples) == 4
    sync.reset()
    assert not sync.synced
    with pytest.raises(ClockNotSynced):
        sync.room_time(0.0)


def test_no_time_before_the_first_sample():
    sync = ClockSync()
    for read in (lambda: sync.offset, lambda: sync.rtt, lambda: sync.error_bound):
        with pytest.raises(ClockNotSynced, match="not-synced"):
            read()
    with pytest.raises(ClockNotSynced):
        sync.page_time(1.0)


@pytest.mark.parametrize(
    ("sample", "message"),
    [
        ((2.0, 5.0, 5.0, 1.0), "before the ping was sent"),
        ((1.0, 5.0, 4.0, 2.0), "before the ping arrived"),
        ((1.0, 5.0, 7.0, 2.0), "negative round trip"),
        ((1.0, math.nan, 5.0, 2.0), "finite"),
        ((1.0, 5.0, math.inf, 2.0), "finite"),
    ],
)
def test_impossible_samples_are_refused(sample, message):
    sync = ClockSync()
    with pytest.raises(ValueError, match=message):
        sync.add(*sample)
    assert sync.samples == ()


@pytest.mark.parametrize(
    "kwargs",
    [{"window": 0}, {"min_samples": 0}, {"window": 2, "min_samples": 3}, {"max_drift": 0.5}],
)
def test_nonsense_parameters_are_refused(kwargs):
    with pytest.raises(ValueError, match="must be"):
        ClockSync(**kwargs)


def test_page_time_converts_a_deadline_back():
    clock, sync = TrueClock(-42.0, 200e-6), ClockSync()
    feed(clock, sync, [(10.0, 0.001, 0.0, 0.001)] * 10)
    closes_at = clock.room(500.0)
    assert sync.page_time(closes_at) == pytest.approx(500.0, abs=1e-9)


def test_clock_module_is_pure():
    path = Path(__file__).resolve().parents[2] / "mobile_bridge" / "clock.py"
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
    assert not roots & PURE_BANNED
