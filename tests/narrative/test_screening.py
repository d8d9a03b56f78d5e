"""The Screening state machine, driven with plain events (no clock, no sockets)."""

from __future__ import annotations

import itertools

import pytest

from narrative.ballots import Approval, Pick, Ranking
from narrative.errors import SnapshotError
from narrative.events import (
    Decide,
    End,
    Ended,
    EventRejected,
    Force,
    Join,
    Leave,
    MoodReport,
    OpenVote,
    PlayScene,
    Skip,
    Start,
    StoryFault,
    Tick,
    VoteAccepted,
    VoteCast,
    VoteRejected,
)
from narrative.mood import LiveMood, Sample
from narrative.screening import Phase, Screening
from narrative.story import Story
from narrative.yamlpos import parse_document
from tests.narrative.screening_story import STORY, STORY_MODEL, of, run, screening, sense


@pytest.fixture(scope="module")
def story() -> Story:
    return STORY_MODEL  # frozen: safe to share between hypothesis examples


def test_start_plays_the_first_scene_at_the_start_time(story):
    s = screening(story)
    out = run(s, Start(100.0))
    assert out == [PlayScene("hall", None, "hall", 0.0, 100.0, 130.0)]
    assert s.phase is Phase.PLAYING
    assert s.variables["visits"] == 1


def test_vote_opens_on_time_with_hidden_options_left_out(story):
    s = screening(story)
    out = run(s, Start(0.0), Tick(4.9))
    assert of(OpenVote, out) == []
    out = run(s, Tick(6.0))
    # `cellar` needs has_key, which nobody has yet.
    assert out == [OpenVote("hall", ("stairs", "door"), 5.0, 15.0)]


def test_the_film_never_pauses_between_scenes(story):
    s = screening(story)
    out = run(
        s, Join("a", 0.0), Start(0.0), VoteCast("a", "hall", Pick("stairs"), 1, 6.0), Tick(500.0)
    )
    plays = of(PlayScene, out)
    assert [p.scene for p in plays] == ["hall", "attic", "finale"]
    for before, after in itertools.pairwise(plays):
        assert after.starts_at == before.ends_at
    assert out[-1] == Ended("finale", "story", 60.0)


def test_decision_comes_before_scene_end_and_condition_unlocks_option(story):
    s = screening(story)
    out = run(
        s,
        Join("a", 0.0),
        Join("b", 0.0),
        Start(0.0),
        Tick(5.0),
        VoteCast("a", "hall", Pick("door"), 1, 6.0),
        VoteCast("b", "hall", Pick("door"), 1, 7.0),
        Tick(16.0),
    )
    (decide,) = of(Decide, out)
    assert (decide.option, decide.goto, decide.at) == ("door", "garden", 15.0)
    assert decide.turnout.voted == 2 and decide.turnout.present == 2
    assert "Leave by the door" in decide.reason
    assert s.variables["has_key"] is True
    # Back to the hall: now the cellar shows.
    out = run(s, Tick(32.0), VoteCast("a", "garden", Pick("back"), 1, 33.0), Tick(60.0))
    assert of(OpenVote, out)[-1].options == ("stairs", "cellar", "door")
    assert s.variables["visits"] == 2


def test_nobody_votes_gives_the_directors_cut(story):
    s = screening(story)
    out = run(s, Join("a", 0.0), Start(0.0), Tick(20.0))
    (decide,) = of(Decide, out)
    assert decide.option == "stairs"
    assert "Nobody voted" in decide.reason


@pytest.mark.parametrize(
    ("event", "code"),
    [
        (VoteCast("a", "hall", Pick("stairs"), 1, 4.0), "not-open"),
        (VoteCast("a", "garden", Pick("back"), 1, 6.0), "not-open"),
        (VoteCast("a", "hall", Pick("cellar"), 1, 6.0), "unknown-option"),
        (VoteCast("a", "hall", Pick("nope"), 1, 6.0), "unknown-option"),
        (VoteCast("a", "hall", Ranking(("stairs", "door")), 1, 6.0), "bad-ballot"),
        (VoteCast("a", "hall", Approval(frozenset({"door"})), 1, 6.0), "bad-ballot"),
        (VoteCast("zz", "hall", Pick("door"), 1, 6.0), "unknown-device"),
        (VoteCast("a", "hall", Pick("door"), 1, 15.0), "window-closed"),
        (VoteCast("a", "hall", Pick("door"), 1, 29.0), "window-closed"),
    ],
)
def test_vote_rejections_carry_their_code(story, event, code):
    s = screening(story)
    out = run(s, Join("a", 0.0), Start(0.0), Tick(event.now))
    out = s.handle(event)
    assert out[-1] == VoteRejected(event.device, event.choice, event.seq, code, event.now)


def test_later_seq_replaces_earlier_and_stale_seq_is_rejected(story):
    s = screening(story)
    run(s, Join("a", 0.0), Start(0.0), Tick(5.0))
    assert s.handle(VoteCast("a", "hall", Pick("stairs"), 5, 6.0)) == [
        VoteAccepted("a", "hall", 5, False, 6.0)
    ]
    assert s.handle(VoteCast("a", "hall", Pick("door"), 6, 7.0)) == [
        VoteAccepted("a", "hall", 6, True, 7.0)
    ]
    assert s.handle(VoteCast("a", "hall", Pick("stairs"), 6, 8.0))[0].code == "stale-seq"
    # The same ballot again with the same seq (a resend after a lost ack) is acked again.
    assert s.handle(VoteCast("a", "hall", Pick("door"), 6, 8.5)) == [
        VoteAccepted("a", "hall", 6, False, 8.5)
    ]
    (decide,) = of(Decide, run(s, Tick(15.0)))
    assert decide.option == "door"
    assert dict(decide.tally) == {"stairs": 0, "door": 1}


def test_borda_story_choice_accepts_rankings(story):
    s = screening(story, policy="borda")
    out = run(
        s,
        Join("a", 0.0),
        Join("b", 0.0),
        Start(0.0),
        VoteCast("a", "hall", Ranking(("door", "stairs")), 1, 6.0),
        VoteCast("b", "hall", Ranking(("stairs", "door")), 1, 6.0),
        VoteCast("b", "hall", Ranking(("door",)), 2, 7.0),
        Tick(15.0),
    )
    (decide,) = of(Decide, out)
    assert dict(decide.tally) == {"stairs": 0, "door": 2}
    assert decide.policy == "borda"


def test_departed_phone_keeps_its_vote_and_counts_in_turnout(story):
    s = screening(story)
    out = run(
        s,
        Join("a", 0.0),
        Join("b", 0.0),
        Start(0.0),
        VoteCast("a", "hall", Pick("door"), 1, 6.0),
        Leave("a", 7.0),
        Tick(15.0),
    )
    (decide,) = of(Decide, out)
    assert decide.option == "door"
    assert (decide.turnout.voted, decide.turnout.present) == (1, 2)


def test_host_force_decides_and_the_scene_plays_out(story):
    s = screening(story)
    out = run(
        s,
        Join("a", 0.0),
        Start(0.0),
        VoteCast("a", "hall", Pick("stairs"), 1, 6.0),
        Force("door", 8.0),
    )
    (decide,) = of(Decide, out)
    assert (decide.option, decide.policy, decide.at) == ("door", "host", 8.0)
    assert "host" in decide.reason
    assert s.handle(VoteCast("a", "hall", Pick("stairs"), 2, 9.0))[0].code == "window-closed"
    assert s.handle(Force("stairs", 9.0)) == [EventRejected("Force", "already-decided", 9.0)]
    plays = of(PlayScene, run(s, Tick(30.0)))
    assert plays[0].scene == "garden" and plays[0].starts_at == 30.0


def test_host_force_before_the_vote_opens_and_of_a_hidden_option(story):
    s = screening(story)
    run(s, Start(0.0))
    assert s.handle(Force("cellar", 1.0)) == [EventRejected("Force", "unknown-option", 1.0)]
    out = s.handle(Force("door", 2.0))
    assert of(Decide, out)[0].option == "door"
    assert of(OpenVote, run(s, Tick(10.0))) == []


def test_host_skip_decides_from_votes_so_far_and_cuts_now(story):
    s = screening(story)
    out = run(s, Join("a", 0.0), Start(0.0), VoteCast("a", "hall", Pick("door"), 1, 6.0), Skip(9.0))
    (decide,) = of(Decide, out)
    assert decide.option == "door" and decide.at == 9.0
    assert decide.reason.startswith("The host skipped ahead.")
    assert of(PlayScene, out)[-1] == PlayScene("garden", None, "garden", 0.0, 9.0, 29.0)


def test_host_skip_before_vote_takes_the_directors_cut(story):
    s = screening(story)
    out = run(s, Start(0.0), Skip(1.0))
    assert of(Decide, out)[0].option == "stairs"
    assert of(PlayScene, out)[-1].scene == "attic"


def test_host_actions_before_start_and_after_end_are_rejected(story):
    s = screening(story)
    assert s.handle(Skip(0.0)) == [EventRejected("Skip", "not-started", 0.0)]
    run(s, Start(0.0))
    assert s.handle(Start(1.0)) == [EventRejected("Start", "already-started", 1.0)]
    out = s.handle(End(2.0))
    assert out[-1] == Ended("hall", "host", 2.0)
    assert s.handle(End(3.0)) == [EventRejected("End", "ended", 3.0)]
    assert s.handle(Force("door", 3.0)) == [EventRejected("Force", "ended", 3.0)]
    assert s.handle(VoteCast("a", "hall", Pick("door"), 1, 3.0))[0].code == "not-open"


def test_force_in_a_scene_without_choice(story):
    s = screening(story)
    run(s, Start(0.0), Force("door", 1.0), Tick(31.0))
    assert s.scene == "garden"
    run(s, Tick(53.0))
    assert s.scene == "hall"
    s2 = screening(story)
    run(s2, Start(0.0), Skip(1.0))  # attic has no choice
    assert s2.handle(Force("x", 2.0)) == [EventRejected("Force", "no-choice", 2.0)]


def test_mood_chooses_variant_and_is_reported_per_scene(story):
    s = screening(story)
    out = run(
        s,
        Join("a", 0.0),
        Join("b", 0.0),
        Start(0.0),
    )
    live = LiveMood()
    out += sense(s, 25.0, Sample("a", 0.1, 0.8, 0.9, 25.0), live=live)
    out += sense(s, 26.0, Sample("b", 0.3, 0.4, 0.7, 26.0), live=live)
    out += run(s, Tick(30.0))
    report = of(MoodReport, out)[0]
    assert report.scene == "hall" and report.viewers == 2 and report.samples == 2
    assert report.arousal == pytest.approx((0.8 + 4 * 0.6) / 5)  # 1 s at 0.8, 4 s at 0.6
    attic = of(PlayScene, out)[-1]
    assert (attic.scene, attic.variant, attic.media, attic.music_gain_db) == (
        "attic",
        0,
        "attic-fast",
        3.0,
    )


def test_stale_affect_no_longer_counts(story):
    s = screening(story)
    run(s, Join("a", 0.0), Start(0.0))
    live = LiveMood()
    sense(s, 1.0, Sample("a", 0.0, 0.9, 0.9, 1.0), live=live)
    assert s.mood(2.0).arousal == pytest.approx(0.9)
    sense(s, 100.0, live=live)  # the shell's next reading: the sample went stale
    assert s.mood(100.0).viewers == 0


def test_mood_policy_follows_the_room(story):
    s = screening(story, policy="mood")
    out = run(
        s,
        Join("a", 0.0),
        Start(0.0),
    )
    out += sense(s, 10.0, Sample("a", 0.0, 0.7, 0.9, 10.0))
    out += run(s, Tick(15.0))
    assert of(Decide, out)[0].option == "door"  # arousal: high suits an excited room


def test_division_by_zero_is_a_story_fault_not_a_crash():
    text = STORY.replace("set: {visits: visits + 1}", "set: {visits: 1 / (visits - visits)}")
    s = screening(Story.model_validate(parse_document(text).data))
    out = run(s, Start(0.0))
    assert of(StoryFault, out)[0].scene == "hall"
    assert s.variables["visits"] == 0
    assert of(PlayScene, out)


def test_restore_refuses_another_story(story):
    s = screening(story)
    run(s, Start(0.0))
    other = Story.model_validate(parse_document(STORY.replace("Test reel", "Other")).data)
    with pytest.raises(SnapshotError) as info:
        Screening.restore(other, s.snapshot())
    assert info.value.code == "story-mismatch"
    with pytest.raises(SnapshotError):
        Screening.restore(story, {"version": 1, "story": story.digest()})


def test_shell_views_now_playing_open_vote_next_due_and_live_ballot(story):
    s = screening(story)
    assert (s.now_playing, s.open_vote, s.next_due()) == (None, None, None)
    run(s, Join("a", 0.0), Start(0.0))
    assert s.now_playing == PlayScene("hall", None, "hall", 0.0, 0.0, 30.0)
    assert (s.open_vote, s.opened_vote) == (None, None)  # not open yet
    assert s.next_due() == 5.0  # the vote opens
    run(s, Tick(5.0), VoteCast("a", "hall", Pick("door"), 3, 6.0))
    assert s.open_vote == OpenVote("hall", ("stairs", "door"), 5.0, 15.0)
    assert s.next_due() == 15.0  # the vote closes
    assert s.live_ballot("a") == (3, Pick("door"))
    assert s.live_ballot("b") is None
    run(s, Tick(15.0))
    assert s.open_vote is None
    # Decided: no longer open, but what opened is still what the scene's fill-ins were for.
    assert s.opened_vote == OpenVote("hall", ("stairs", "door"), 5.0, 15.0)
    assert s.next_due() == 30.0  # the scene ends
    restored = Screening.restore(story, s.snapshot())
    assert restored.now_playing == s.now_playing
    assert restored.opened_vote == s.opened_vote
