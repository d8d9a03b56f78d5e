"""Room mood: the trimmed mean follows the crowd; lone outliers, stale and absent phones
don't; the Screening, the mood policy and variants read it."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from narrative.events import Decide, Join, Leave, MoodReport, PlayScene, RoomMood, Start, Tick
from narrative.mood import (
    NEUTRAL,
    LiveMood,
    Mood,
    Sample,
    SceneTally,
    aggregate,
    summarise,
    trimmed_mean,
)
from narrative.screening import Screening
from tests.narrative.screening_story import STORY_MODEL, of, run, screening, sense

unit = st.floats(-1.0, 1.0, allow_nan=False)
values = st.lists(unit, min_size=1, max_size=40)


def sample(device, valence=0.0, arousal=0.0, engagement=0.5, at=0.0, hr=None):
    return Sample(device, valence, arousal, engagement, at, hr)


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
    mood = aggregate(room, 1.0, present={s.device for s in room})
    assert (mood.valence, mood.arousal, mood.engagement) == pytest.approx((0.6, -0.2, 0.9))
    assert mood.spread[0] == pytest.approx(0.0)
    assert (mood.viewers, mood.present, mood.participation) == (7, 7, 1.0)


def test_a_lone_clown_does_not_drag_a_calm_room():
    room = [sample(f"p{i}", valence=0.1 * (i % 3)) for i in range(9)]
    clown = sample("clown", valence=-1.0, arousal=1.0)
    mood = aggregate([*room, clown], 0.0, present={*(s.device for s in room), "clown"})
    assert mood.valence >= 0.0
    assert mood.arousal == 0.0
    plain = sum(s.valence for s in [*room, clown]) / 10
    assert plain < 0.0 < mood.valence + 1e-9  # the plain mean would have gone negative


def test_only_the_latest_fresh_sample_of_each_present_phone_counts():
    samples = [
        sample("a", valence=-1.0, at=0.0),
        sample("a", valence=0.5, at=10.0),  # a's latest
        sample("b", valence=1.0, at=0.0),  # stale at now=20 (older than 15 s)
        sample("gone", valence=-1.0, at=19.0),  # left the room
    ]
    mood = aggregate(samples, 20.0, present={"a", "b", "c", "d"})
    assert mood.valence == 0.5
    assert (mood.viewers, mood.present, mood.participation) == (1, 4, 0.25)


def test_no_fresh_sample_reads_neutral():
    mood = aggregate([sample("a", at=0.0)], 100.0, present={"a"})
    assert (mood.valence, mood.arousal, mood.engagement) == (0.0, 0.0, NEUTRAL.engagement)
    assert (mood.viewers, mood.present, mood.participation) == (0, 1, 0.0)
    assert aggregate([], 0.0, present=set()) == NEUTRAL


def test_heart_rate_averages_only_the_phones_that_measured_it():
    samples = [sample("a", hr=60.0), sample("b", hr=80.0), sample("c")]
    assert aggregate(samples, 0.0).heart_rate_bpm == 70.0
    assert aggregate([sample("c")], 0.0).heart_rate_bpm is None


@given(
    st.lists(
        st.tuples(st.sampled_from("abcdef"), unit, unit, st.floats(0, 1), st.floats(0, 30)),
        max_size=30,
    ),
    st.floats(0, 40),
    st.randoms(use_true_random=False),
)
def test_aggregate_is_bounded_and_order_free(rows, now, rnd):
    samples = [Sample(d, v, a, e, at) for d, v, a, e, at in rows]
    present = set("abcde")
    mood = aggregate(samples, now, present=present)
    rnd.shuffle(samples)
    assert aggregate(samples, now, present=present) == mood
    assert -1 <= mood.valence <= 1 and -1 <= mood.arousal <= 1
    assert 0 <= mood.engagement <= 1
    assert 0 <= mood.participation <= 1
    assert mood.viewers <= 5 and mood.present == 5


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="trim"):
        trimmed_mean([1.0], trim=0.5)
    with pytest.raises(ValueError, match="no values"):
        trimmed_mean([])
    with pytest.raises(ValueError, match="stale_after_s"):
        aggregate([], 0.0, stale_after_s=0.0)


def reading(valence=0.0, arousal=0.0, engagement=0.5, viewers=1):
    return Mood(valence, arousal, engagement, viewers, present=viewers)


def test_live_mood_keeps_each_phones_latest_sample_clamped_and_forgets_leavers():
    live = LiveMood()
    live.add(sample("a", valence=0.9, at=1.0))
    live.add(sample("a", valence=2.0, at=2.0, hr=999.0))  # out of range: clamped
    live.add(sample("a", valence=-0.9, at=1.5))  # older than the one kept: ignored
    live.add(sample("b", valence=0.1, at=2.0))
    mood = live.reading(2.0, present={"a", "b", "c"})
    assert (mood.valence, mood.viewers, mood.present) == (pytest.approx(0.55), 2, 3)
    assert mood.heart_rate_bpm == 240.0
    live.drop("a")
    assert live.reading(2.0).viewers == 1 and len(live) == 1
    live.expire(100.0)  # b's sample is stale: forgotten
    assert len(live) == 0 and live.reading(100.0).viewers == 0


def test_scene_tally_weighs_each_reading_by_how_long_it_held_while_cameras_counted():
    tally = SceneTally()
    tally.start(0.0, NEUTRAL)  # no camera yet: the first 10 s count for nothing
    assert tally.summary(5.0) is None
    tally.observe(reading(valence=0.8, viewers=2), 10.0)
    for i in range(8):  # a burst of readings while the room swings: 2 s in all
        tally.observe(reading(valence=-0.5 if i % 2 else 0.5, viewers=3), 20.0 + i * 0.25)
    tally.observe(reading(valence=0.2, viewers=1), 22.0)
    summary = tally.summary(30.0)
    assert summary is not None
    # 10 s at 0.8, 2 s alternating (±0.5, ±0.5 … → 0), 8 s at 0.2
    assert summary.valence == pytest.approx((10 * 0.8 + 8 * 0.2) / 20)
    assert (summary.viewers, tally.readings) == (3, 10)


@given(st.lists(st.tuples(st.floats(0, 5), unit, unit, st.floats(0, 1), st.integers(0, 4)),
                max_size=20))  # fmt: skip
def test_scene_tally_restores_from_its_snapshot(rows):
    tally = SceneTally()
    tally.start(0.0, NEUTRAL)
    at = 0.0
    for dt, v, a, e, n in rows:
        at += dt
        tally.observe(Mood(v, a, e, n, n + 1, heart_rate_bpm=60.0 if n else None), at)
    again = SceneTally.restore(json.loads(json.dumps(tally.snapshot())))
    assert again.snapshot() == tally.snapshot()
    assert again.summary(at + 1.0) == tally.summary(at + 1.0)


# -- the Screening reads the robust mood ------------------------------------------------


def crowd(s: Screening, arousals: list[float], at: float) -> list:
    """Every phone ``p0…`` sends one sample with the given arousal at ``at``; the shell
    feeds the room's reading."""
    return sense(s, at, *(sample(f"p{i}", 0.0, a, 0.8, at) for i, a in enumerate(arousals)))


def joined(policy: str, phones: int) -> Screening:
    s = screening(STORY_MODEL, policy=policy)
    run(s, *(Join(f"p{i}", 0.0) for i in range(phones)), Start(0.0))
    return s


def test_the_mood_policy_follows_the_crowd_not_one_excited_phone():
    # hall's choice: stairs suits a calm room (arousal low), door an excited one (high).
    calm = joined("mood", 6)
    crowd(calm, [-0.6, -0.5, -0.7, -0.6, -0.5, 1.0], 8.0)  # one phone bouncing
    (decision,) = of(Decide, run(calm, Tick(15.0)))
    assert decision.option == "stairs"
    assert calm.mood(15.0).viewers == 6
    excited = joined("mood", 6)
    crowd(excited, [0.6, 0.7, 0.5, 0.8, 0.6, -1.0], 8.0)  # one phone asleep
    (decision,) = of(Decide, run(excited, Tick(15.0)))
    assert decision.option == "door"
    assert "6 cameras" in decision.reason


def test_a_variant_plays_when_the_room_mood_matches_its_when():
    # attic's first variant: `mood.arousal > 0.3` → the fast cut with louder music.
    tense = joined("plurality", 5)
    crowd(tense, [0.5, 0.6, 0.4, 0.5, -1.0], 25.0)  # trimmed: 0.5; plain mean would be 0.2
    attic = of(PlayScene, run(tense, Tick(30.0)))[-1]
    assert (attic.scene, attic.media, attic.music_gain_db) == ("attic", "attic-fast", 3.0)
    calm = joined("plurality", 5)
    crowd(calm, [0.1, 0.0, 0.2, 0.1, 1.0], 25.0)  # one excited phone alone does not tip it
    attic = of(PlayScene, run(calm, Tick(30.0)))[-1]
    assert (attic.scene, attic.media, attic.music_gain_db) == ("attic", "attic", 0.0)


def test_the_scene_report_is_the_room_mood_weighted_by_time():
    s = joined("plurality", 5)
    live = LiveMood()
    sense(s, 10.0, sample("p0", arousal=0.9, at=10.0, hr=80.0), live=live)  # 1 camera
    crowd(s, [0.9, 0.1, 0.2, 0.3, 0.2], 26.0)  # 5 cameras, trimmed mean 0.233…
    (report,) = of(MoodReport, run(s, Tick(30.0)))
    assert (report.scene, report.viewers, report.samples) == ("hall", 5, 2)
    # 16 s at 0.9, then 4 s at the crowd's trimmed mean; the 10 s without a camera: none
    assert report.arousal == pytest.approx((16 * 0.9 + 4 * (0.2 + 0.3 + 0.2) / 3) / 20)


def test_the_screening_holds_only_the_room_mood_and_its_snapshot_no_device_numbers():
    s = joined("mood", 3)
    sense(s, 1.0, sample("p1", 0.2, 0.3, 0.4, 1.0, hr=70.0))
    data = json.loads(json.dumps(s.snapshot()))
    assert data["version"] == 5 and "samples" not in data
    assert data["room_mood"] == [0.2, 0.3, 0.4, 1, 3, 70.0]
    again = Screening.restore(STORY_MODEL, data)
    assert again.snapshot() == s.snapshot()
    assert again.mood(2.0).heart_rate_bpm == 70.0
    run(s, Leave("p1", 2.0))  # the room mood is the shell's to refresh: it stays as fed
    assert s.mood(2.0).viewers == 1
    out = run(s, RoomMood(0.0, 0.0, 0.5, 0, 2, 3.0))
    assert out == [] and s.mood(3.0).viewers == 0


def test_snapshots_of_versions_1_and_2_restore_without_their_per_phone_samples():
    s = joined("mood", 3)
    data = json.loads(json.dumps(s.snapshot()))
    del data["room_mood"]
    v2 = dict(data, version=2, samples=[["p1", 0.2, 0.3, 0.4, 1.0, 70.0]])
    v2["scene_mood"] = {"trim": 0.2, "devices": [["p1", 1, 0.2, 0.3, 0.4, 1, 70.0]]}
    v1 = dict(v2, version=1, samples=[["p1", 0.2, 0.3, 0.4, 1.0]])
    v1["scene_mood"] = {"samples": 1, "valence": 0.2, "arousal": 0.3, "engagement": 0.4,
                        "devices": ["p1"]}  # fmt: skip
    for old in (v1, v2):
        restored = Screening.restore(STORY_MODEL, old)
        assert restored.mood(2.0).viewers == 0 and restored.mood(2.0).present == 3
        assert "samples" not in restored.snapshot()
        (report,) = of(MoodReport, run(restored, Tick(30.0)))
        assert (report.viewers, report.samples) == (0, 0)
