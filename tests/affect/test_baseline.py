"""Per-viewer baseline: a habitually frowning face is not read as sad, a change is."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from affect.baseline import Baseline
from affect.errors import SampleError

unit = st.floats(-1.0, 1.0, allow_nan=False)


def feed(baseline, valence, arousal=0.0, hr=None, *, start, seconds, hz=2.0):
    out = None
    for i in range(int(seconds * hz)):
        out = baseline.observe(valence, arousal, hr, start + i / hz)
    return out


def test_a_habitual_frown_reads_neutral_and_a_smile_reads_pleased():
    b = Baseline()
    resting = feed(b, -0.4, start=0.0, seconds=60)
    assert resting.valence == pytest.approx(0.0, abs=1e-9)
    assert resting.calibrated
    smile = b.observe(0.2, 0.0, None, 60.5)
    assert smile.valence == pytest.approx(0.6, abs=0.01)
    assert b.resting[0] == pytest.approx(-0.4, abs=0.01)


def test_first_reading_is_neutral_and_uncalibrated_until_the_period_ends():
    b = Baseline(calibration_s=20.0)
    first = b.observe(-0.9, 0.7, 80.0, 0.0)
    assert (first.valence, first.arousal, first.heart_rate_delta_bpm) == (0.0, 0.0, 0.0)
    assert not first.calibrated
    assert not b.observe(-0.9, 0.7, None, 19.9).calibrated
    assert b.observe(-0.9, 0.7, None, 20.0).calibrated


def test_a_sustained_change_is_absorbed_at_the_time_constant_whatever_the_rate():
    means = []
    for hz in (2.0, 4.0):
        b = Baseline(calibration_s=10.0, tau_s=60.0)
        feed(b, 0.0, start=0.0, seconds=10, hz=hz)
        feed(b, 0.5, start=10.0, seconds=60, hz=hz)
        means.append(b.resting[0])
    expected = 0.5 * (1 - math.exp(-1))  # one time constant
    assert means == [pytest.approx(expected, abs=0.03)] * 2


def test_heart_rate_is_reported_against_the_viewers_resting_rate():
    b = Baseline()
    feed(b, 0.0, hr=62.0, start=0.0, seconds=30)
    assert b.observe(0.0, 0.0, 80.0, 30.0).heart_rate_delta_bpm == pytest.approx(18.0)
    assert b.observe(0.0, 0.0, None, 30.5).heart_rate_delta_bpm is None


@given(st.lists(st.tuples(unit, unit), min_size=1, max_size=60))
def test_readings_stay_on_the_scale_and_restore_identically(readings):
    b = Baseline(calibration_s=5.0)
    for i, (v, a) in enumerate(readings):
        out = b.observe(v, a, 60.0 + 10 * v, i * 0.5)
        assert -1.0 <= out.valence <= 1.0 and -1.0 <= out.arousal <= 1.0
    again = Baseline.restore(b.snapshot())
    t = len(readings) * 0.5
    assert again.observe(0.3, -0.3, 70.0, t) == b.observe(0.3, -0.3, 70.0, t)


def test_nonsense_is_refused():
    with pytest.raises(SampleError):
        Baseline().observe(float("nan"), 0.0, None, 0.0)
    with pytest.raises(SampleError):
        Baseline(tau_s=0.0)
