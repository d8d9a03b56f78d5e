"""Room mood: the trimmed mean follows the crowd; lone outliers, stale and absent phones don't."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from affect.errors import SampleError
from affect.room_mood import (
    SceneTally,
    ViewerSample,
    aggregate,
    summarise,
    trimmed_mean,
)

unit = st.floats(-1.0, 1.0, allow_nan=False)
values = st.lists(unit, min_size=1, max_size=40)


def sample(device, valence=0.0, arousal=0.0, engagement=0.5, at=0.0, hr=None):
    return ViewerSample(device, valence, arousal, engagement, at, hr)


@given(values, st.floats(0.0, 0.49))
def test_trimmed_mean_stays_within_the_values(vs, trim):
    m = trimmed_mean(vs, trim)
    assert min(vs) <= m <= max(vs)


@given(values, st.randoms(use_true_random=False))
def test_order_of_viewers_does_not_matter(vs, rnd):
    shuffled = list(vs)
    rnd.shuffle(shuffled)
    assert trimmed_mean(shuffled) == trimmed_mean(vs)
    assert summarise(shuffled) == summarise(vs)


@given(st.lists(unit, min_size=4, max_size=40), st.floats(-1e6, 1e6))
def test_one_outlier_cannot_pull_the_mean_outside_the_others(others, outlier):
    # With trim 0.2 and five or more viewers, the most extreme viewer is always dropped.
    m = trimmed_mean([*others, outlier], 0.2)
    assert min(others) <= m <= max(others)


@given(values)
def test_spread_is_between_zero_and_half_the_range(vs):
    s = summarise(vs)
    assert 0.0 <= s.spread <= (max(vs) - min(vs)) / 2 + 1e-12
    assert s.n == len(vs)


def test_a_unanimous_room_reads_as_itself():
    room = [sample(f"p{i}", valence=0.6, arousal=-0.2, engagement=0.9) for i in range(7)]
    mood = aggregate(room, present={s.device for s in room}, now=1.0)
    assert mood is not None
    assert (mood.valence.mean, mood.arousal.mean, mood.engagement.mean) == pytest.approx(
        (0.6, -0.2, 0.9)
    )
    assert mood.valence.spread == pytest.approx(0.0)


def test_a_lone_clown_does_not_drag_a_calm_room():
    room = [sample(f"p{i}", valence=0.1 * (i % 3)) for i in range(9)]
    clown = sample("clown", valence=-1.0, arousal=1.0)
    mood = aggregate([*room, clown], present={*(s.device for s in room), "clown"}, now=0.0)
    assert mood is not None
    assert mood.valence.mean >= 0.0
    assert mood.arousal.mean == 0.0
    plain = sum(s.valence for s in [*room, clown]) / 10
    assert plain < 0.0 < mood.valence.mean + 1e-9  # the plain mean would have gone negative


def test_only_the_latest_fresh_sample_of_each_present_phone_counts():
    samples = [
        sample("a", valence=-1.0, at=0.0),
        sample("a", valence=0.5, at=10.0),  # a's latest
        sample("b", valence=1.0, at=0.0),  # stale at now=20 (older than 15 s)
        sample("gone", valence=-1.0, at=19.0),  # left the room
    ]
    mood = aggregate(samples, present={"a", "b", "c", "d"}, now=20.0)
    assert mood is not None
    assert mood.valence.mean == 0.5
    assert (mood.contributing, mood.present, mood.participation) == (1, 4, 0.25)


def test_no_fresh_sample_means_no_mood():
    assert aggregate([sample("a", at=0.0)], present={"a"}, now=100.0) is None
    assert aggregate([], present=set(), now=0.0) is None


def test_heart_rate_averages_only_the_phones_that_measured_it():
    samples = [sample("a", hr=60.0), sample("b", hr=80.0), sample("c")]
    mood = aggregate(samples, present={"a", "b", "c"}, now=0.0)
    assert mood is not None and mood.heart_rate_bpm is not None
    assert (mood.heart_rate_bpm.mean, mood.heart_rate_bpm.n) == (70.0, 2)
    none = aggregate([sample("c")], present={"c"}, now=0.0)
    assert none is not None and none.heart_rate_bpm is None


@given(
    st.lists(
        st.tuples(st.sampled_from("abcdef"), unit, unit, st.floats(0, 1), st.floats(0, 30)),
        max_size=30,
    ),
    st.floats(0, 40),
    st.randoms(use_true_random=False),
)
def test_aggregate_is_bounded_and_order_free(rows, now, rnd):
    samples = [ViewerSample(d, v, a, e, at) for d, v, a, e, at in rows]
    present = set("abcde")
    mood = aggregate(samples, present=present, now=now)
    rnd.shuffle(samples)
    assert aggregate(samples, present=present, now=now) == mood
    if mood is not None:
        assert -1 <= mood.valence.mean <= 1 and -1 <= mood.arousal.mean <= 1
        assert 0 <= mood.engagement.mean <= 1
        assert 0 < mood.participation <= 1
        assert mood.contributing == mood.valence.n <= 5


@pytest.mark.parametrize(
    "kwargs",
    [{"valence": 1.5}, {"arousal": float("nan")}, {"engagement": -0.1}, {"hr": 400.0}],
)
def test_out_of_scale_samples_are_refused_with_a_code(kwargs):
    with pytest.raises(SampleError) as info:
        sample("a", **kwargs)
    assert info.value.code == "bad-sample"
    assert "a:" in str(info.value)


def test_bad_parameters_are_refused():
    with pytest.raises(SampleError):
        trimmed_mean([1.0], trim=0.5)
    with pytest.raises(SampleError):
        trimmed_mean([])
    with pytest.raises(SampleError):
        aggregate([], present=set(), now=0.0, stale_after_s=0.0)


def test_scene_tally_weighs_each_viewer_once_however_often_it_sends():
    tally = SceneTally("intro")
    assert tally.summary() is None
    for i in range(40):  # a chatty phone, always pleased
        tally.add(sample("chatty", valence=0.8, at=i * 0.25, hr=90.0))
    tally.add(sample("quiet", valence=-0.2, at=3.0))
    summary = tally.summary()
    assert summary is not None
    assert summary.valence.mean == pytest.approx(0.3)
    assert (summary.viewers, summary.samples) == (2, 41)
    assert summary.heart_rate_bpm is not None and summary.heart_rate_bpm.mean == 90.0


@given(st.lists(st.tuples(st.sampled_from("abc"), unit, unit, st.floats(0, 1)), max_size=20))
def test_scene_tally_restores_from_its_snapshot(rows):
    tally = SceneTally("s")
    for d, v, a, e in rows:
        tally.add(ViewerSample(d, v, a, e, 0.0))
    again = SceneTally.restore(tally.snapshot())
    assert again.snapshot() == tally.snapshot()
    assert again.summary() == tally.summary()
