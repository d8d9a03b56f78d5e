"""The film's schedule and RTP line (pure): continuous timestamps across switches."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mobile_bridge.film.errors import TimelineError
from mobile_bridge.film.timeline import (
    AUDIO_CLOCK_RATE,
    VIDEO_CLOCK_RATE,
    RtpLine,
    Timeline,
    due,
)

FRAME = 1 / 30
VIDEO_PTS = [0.0065 + i * FRAME for i in range(60)]  # a 2-s clip at 30 fps
AUDIO_PTS = [i * 0.06 for i in range(34)]  # its 60-ms Opus frames


def play_out(
    timeline: Timeline, clip_pts: dict[str, list[float]], rate: int
) -> list[tuple[str, int, float]]:
    """What a reader plays: every scene's packets until its cut, stamped on one line."""
    line = RtpLine(rate)
    out = []
    scene = timeline.successor(None)
    while scene is not None:
        for pts in clip_pts[scene.clip]:
            if timeline.plays(scene, pts):
                ticks = line.stamp(timeline.line_time(due(scene, pts)))
                assert ticks is not None, "the line went back"
                out.append((scene.clip, ticks, due(scene, pts)))
        scene = timeline.successor(scene)
    return out


def test_a_switch_at_the_clip_boundary_continues_the_line_frame_by_frame():
    timeline = Timeline()
    timeline.schedule("a", 100.0, now=99.0)
    timeline.schedule("b", 102.0, now=101.5)  # decided half a second before the boundary
    played = play_out(timeline, {"a": VIDEO_PTS, "b": VIDEO_PTS}, VIDEO_CLOCK_RATE)
    assert [clip for clip, _, _ in played] == ["a"] * 60 + ["b"] * 60
    steps = {b - a for (_, a, _), (_, b, _) in itertools.pairwise(played)}
    assert steps == {3000}  # no gap, no repeat: exactly one frame every 1/30 s
    assert played[60][2] == pytest.approx(102.0065)  # b's keyframe is due at its start


def test_audio_line_is_increasing_across_the_switch_at_48_khz():
    timeline = Timeline()
    timeline.schedule("a", 0.0, now=0.0)
    timeline.schedule("b", 2.0, now=1.0)
    played = play_out(timeline, {"a": AUDIO_PTS, "b": AUDIO_PTS}, AUDIO_CLOCK_RATE)
    ticks = [t for _, t, _ in played]
    assert ticks == sorted(set(ticks))
    assert ticks[34] == 2 * AUDIO_CLOCK_RATE  # b's first frame sits at its start


def test_an_early_switch_cuts_the_scene_playing_and_the_line_stays_continuous():
    timeline = Timeline()
    timeline.schedule("a", 0.0, now=0.0)
    timeline.schedule("b", 1.0, now=0.5)  # a is 2 s long, b takes over at 1 s
    played = play_out(timeline, {"a": VIDEO_PTS, "b": VIDEO_PTS}, VIDEO_CLOCK_RATE)
    assert [clip for clip, _, _ in played] == ["a"] * 30 + ["b"] * 60
    assert all(d < 1.0 for clip, _, d in played if clip == "a")
    steps = {b - a for (_, a, _), (_, b, _) in itertools.pairwise(played)}
    assert steps == {3000}


def test_a_variant_replaces_the_chosen_next_scene_before_it_starts():
    timeline = Timeline()
    a = timeline.schedule("a", 0.0, now=0.0)
    b = timeline.schedule("b", 2.0, now=1.0)
    b2 = timeline.schedule("b-variant", 2.0, now=1.5)
    assert not timeline.is_live(b)
    assert timeline.is_live(b2)
    assert timeline.successor(a) == b2
    assert [s.clip for s in timeline.scenes] == ["a", "b-variant"]


def test_a_scene_that_started_is_never_replaced():
    timeline = Timeline()
    a = timeline.schedule("a", 0.0, now=0.0)
    b = timeline.schedule("b", 2.0, now=1.5)  # a cut at 2.0 while it plays
    timeline.schedule("c", 2.6, now=2.5)  # b has started: c comes after it
    assert timeline.is_live(a)
    assert timeline.is_live(b)
    assert timeline.cut_of(a) == 2.0
    assert timeline.scene_at(2.4) == b


def test_a_scene_cannot_start_in_the_past():
    timeline = Timeline()
    timeline.schedule("a", 10.0, now=10.0)
    with pytest.raises(TimelineError) as caught:
        timeline.schedule("b", 9.0, now=11.0)
    assert caught.value.code == "starts-in-past"
    assert "9.000" in str(caught.value)
    with pytest.raises(TimelineError, match="no-clip"):
        timeline.schedule("", 12.0, now=11.0)


def test_due_time_is_start_plus_pts_and_the_origin_is_the_first_start():
    timeline = Timeline()
    scene = timeline.schedule("a", 1000.25, now=1000.0)
    assert timeline.origin == 1000.25
    assert due(scene, 0.5) == 1000.75
    later = timeline.schedule("b", 1003.0, now=1001.0)
    assert timeline.line_time(due(later, 0.1)) == pytest.approx(2.85)


def test_candidates_are_remembered_for_readers_that_start_later():
    timeline = Timeline()
    assert timeline.prepare(["left", "right", ""]) == {"left", "right"}
    assert timeline.candidates == {"left", "right"}


def test_rtp_line_refuses_a_timestamp_that_does_not_go_up():
    line = RtpLine(VIDEO_CLOCK_RATE)
    assert line.stamp(0.1) == 9000
    assert line.stamp(0.1) is None
    assert line.stamp(0.05) is None
    assert line.refused == 2


def test_a_packet_a_float_error_short_of_the_cut_does_not_take_the_next_scenes_tick():
    timeline = Timeline()
    timeline.schedule("a", 0.0, now=0.0)
    timeline.schedule("a", 0.345, now=0.345)
    timeline.schedule("a", 0.765, now=0.345)  # 0.345 + 0.42 == 0.76499... in floats
    played = play_out(timeline, {"a": AUDIO_PTS}, AUDIO_CLOCK_RATE)
    ticks = [t for _, t, _ in played]
    assert ticks == sorted(set(ticks))


@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 3000), st.integers(0, 1000)),
        min_size=1,
        max_size=12,
    )
)
def test_any_sequence_of_late_decisions_keeps_both_lines_strictly_increasing(decisions):
    """Decisions arrive at increasing times (ms), each for a start at or after its moment."""
    timeline = Timeline()
    now_ms = 0
    for clip, lead_ms, wait_ms in decisions:
        timeline.schedule(clip, (now_ms + lead_ms) / 1000, now=now_ms / 1000)
        now_ms += wait_ms
    clips = {"a": VIDEO_PTS, "b": VIDEO_PTS[:20], "c": VIDEO_PTS[5:]}
    played = play_out(timeline, clips, VIDEO_CLOCK_RATE)
    ticks = [t for _, t, _ in played]
    assert ticks == sorted(set(ticks))
    audio = play_out(timeline, dict.fromkeys(clips, AUDIO_PTS), AUDIO_CLOCK_RATE)
    assert [t for _, t, _ in audio] == sorted({t for _, t, _ in audio})
