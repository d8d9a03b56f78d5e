"""Consensus policies and `decide()`: what the room would notice about the branch that plays."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from narrative.ballots import Approval, Cast, Pick, Ranking
from narrative.consensus import (
    OptionInfo,
    VoteContext,
    decide,
    number,
    resolve_mood_target,
)
from narrative.errors import PolicyError
from narrative.ids import ChoiceId, DeviceId, OptionId
from narrative.mood import Mood
from narrative.policies import (
    POLICY_NAMES,
    ApprovalPolicy,
    ArmStats,
    BordaPolicy,
    ExplorePolicy,
    MoodPolicy,
    PluralityPolicy,
    SupermajorityPolicy,
    WeightedPolicy,
    policy_from_spec,
)

BOARD, WAIT, CELLAR = OptionId("board"), OptionId("wait"), OptionId("cellar")
VOTE = ChoiceId("vote")  # the choice a VoteContext is about unless it says otherwise
LABELS = {"board": "Board the train", "wait": "Wait", "cellar": "Cellar"}


def options(*ids: str, moods: dict[str, dict[str, str | float]] | None = None):
    moods = moods or {}
    return tuple(
        OptionInfo(OptionId(i), LABELS.get(i, i.title()), resolve_mood_target(moods.get(i, {})))
        for i in ids
    )


def picks(*votes: str, start: int = 0) -> tuple[Cast, ...]:
    return tuple(Cast(DeviceId(f"p{start + n}"), Pick(OptionId(v))) for n, v in enumerate(votes))


def room(casts, present=None, default=WAIT, opts=None, **kw) -> VoteContext:
    opts = opts or options("board", "wait")
    present = len({c.device for c in casts}) if present is None else present
    return VoteContext(opts, default, tuple(casts), present, **kw)


def run(policy, ctx, seed=0):
    return decide(policy, ctx, random.Random(seed))


# --- the shared rules ------------------------------------------------------------------


def test_plurality_most_votes_win_and_reason_names_labels_and_turnout():
    d = run(PluralityPolicy(), room(picks(*["board"] * 14, *["wait"] * 9), present=30))
    assert d.option == BOARD
    assert d.scores == ((BOARD, 14), (WAIT, 9))
    assert d.policy == "plurality"
    assert d.reason == "Plurality: Board the train 14 votes, Wait 9 votes; 23 of 30 phones voted."
    assert (d.turnout.voted, d.turnout.present) == (23, 30)


def test_nobody_voted_plays_the_directors_cut():
    d = run(PluralityPolicy(), room((), present=12))
    assert d.option == WAIT
    assert d.reason == "Nobody voted (12 phones present): the director's cut 'Wait' plays."


def test_quorum_not_met_plays_the_directors_cut_and_says_why():
    d = run(PluralityPolicy(), room(picks(*["board"] * 4), present=30, quorum=0.5))
    assert d.option == WAIT
    assert d.reason == (
        "Quorum not met (4 of 30 phones voted, 50 % needed): the director's cut 'Wait' plays."
    )
    assert dict(d.scores)[BOARD] == 4  # the screen still shows what the votes said


def test_quorum_met_exactly_counts_the_votes():
    d = run(PluralityPolicy(), room(picks(*["board"] * 15), present=30, quorum=0.5))
    assert d.option == BOARD


def test_quorum_applies_to_mood_and_explore_too():
    reading = Mood(0.0, 0.5, 0.8, viewers=10)
    opts = options("board", "wait", moods={"board": {"arousal": "high"}})
    for policy in (MoodPolicy(), ExplorePolicy()):
        d = run(policy, room(picks("board"), present=10, quorum=0.5, opts=opts, mood=reading))
        assert d.option == WAIT
        assert d.reason.startswith("Quorum not met (1 of 10 phones voted, 50 % needed)")


def test_tie_goes_to_the_directors_cut_when_it_is_tied():
    d = run(PluralityPolicy(), room(picks("board", "wait"), present=3))
    assert d.option == WAIT
    assert d.reason == (
        "Plurality: Wait 1 vote, Board the train 1 vote (a tie: the director's cut wins it); "
        "2 of 3 phones voted."
    )


def test_tie_without_the_directors_cut_goes_to_the_earliest_option():
    opts = options("board", "wait", "cellar")
    d = run(PluralityPolicy(), room(picks("cellar", "board", "wait", "cellar", "board"), opts=opts))
    assert d.option == BOARD
    assert "(a tie: the earlier option wins it)" in d.reason


def test_hidden_default_falls_back_to_the_first_option():
    opts = options("board", "cellar")  # 'wait' hidden by a condition
    d = run(PluralityPolicy(), room((), present=5, opts=opts))
    assert d.option == BOARD
    assert d.reason == "Nobody voted (5 phones present): the first option 'Board the train' plays."


def test_the_last_cast_of_a_device_is_its_live_vote():
    casts = (*picks("board"), Cast(DeviceId("p0"), Pick(WAIT)), *picks("wait", start=1))
    d = run(PluralityPolicy(), room(casts))
    assert dict(d.scores) == {BOARD: 0, WAIT: 2}
    assert d.turnout.voted == 2


def test_ballots_on_hidden_options_and_unaccepted_types_are_not_counted():
    casts = (
        *picks("board", "cellar"),
        Cast(DeviceId("r"), Ranking((WAIT, BOARD))),
        Cast(DeviceId("a"), Approval(frozenset({WAIT}))),
    )
    d = run(PluralityPolicy(), room(casts, present=4))
    assert dict(d.scores) == {BOARD: 1, WAIT: 0}
    assert (d.turnout.voted, d.turnout.present) == (1, 4)


def test_present_smaller_than_voters_is_raised_to_the_voters():
    d = run(PluralityPolicy(), room(picks("board", "board", "wait"), present=1))
    assert d.turnout.present == 3
    assert "3 of 3 phones voted" in d.reason


def test_one_phone_reads_in_the_singular():
    d = run(PluralityPolicy(), room(picks("board"), present=1))
    assert d.reason.endswith("1 of 1 phone voted.")


def test_vote_context_refuses_what_no_vote_can_be():
    with pytest.raises(ValueError, match="at least one"):
        VoteContext((), WAIT, (), 0)
    with pytest.raises(ValueError, match="duplicate"):
        VoteContext(options("wait", "wait"), WAIT, (), 0)
    with pytest.raises(ValueError, match="quorum"):
        VoteContext(options("wait"), WAIT, (), 0, quorum=1.5)
    with pytest.raises(ValueError, match="present"):
        VoteContext(options("wait"), WAIT, (), -1)


# --- the policies ----------------------------------------------------------------------


def test_borda_points_and_reason():
    casts = (
        Cast(DeviceId("a"), Ranking((BOARD, WAIT, CELLAR))),
        Cast(DeviceId("b"), Ranking((WAIT,))),
        Cast(DeviceId("c"), Pick(BOARD)),
    )
    d = run(BordaPolicy(), room(casts, present=4, opts=options("board", "wait", "cellar")))
    assert dict(d.scores) == {BOARD: 4, WAIT: 3, CELLAR: 0}
    assert d.option == BOARD
    assert d.reason == "Borda: Board the train 4 pts, Wait 3 pts; 3 of 4 phones voted."


def test_borda_drops_hidden_options_from_a_ranking():
    casts = (Cast(DeviceId("a"), Ranking((CELLAR, WAIT, BOARD))),)  # cellar hidden
    d = run(BordaPolicy(), room(casts))
    assert dict(d.scores) == {WAIT: 1, BOARD: 0}


def test_approval_counts_every_approved_option():
    casts = (
        Cast(DeviceId("a"), Approval(frozenset({BOARD, WAIT}))),
        Cast(DeviceId("b"), Approval(frozenset({BOARD}))),
        Cast(DeviceId("c"), Pick(WAIT)),
        Cast(DeviceId("d"), Pick(BOARD)),
    )
    d = run(ApprovalPolicy(), room(casts))
    assert dict(d.scores) == {BOARD: 3, WAIT: 2}
    assert (
        d.reason == "Approval: Board the train 3 approvals, Wait 2 approvals; 4 of 4 phones voted."
    )


def test_accepts_matches_each_policys_ballot_kinds():
    pick, ranking, approval = Pick(BOARD), Ranking((BOARD,)), Approval(frozenset({BOARD}))
    for name in POLICY_NAMES:
        policy = policy_from_spec({"name": name})
        assert policy.accepts(pick)
        assert policy.accepts(ranking) == (name == "borda")
        assert policy.accepts(approval) == (name == "approval")


def test_supermajority_short_of_threshold_plays_the_directors_cut():
    votes = picks(*["board"] * 11, *["wait"] * 9)
    d = run(SupermajorityPolicy(), room(votes))
    assert d.option == WAIT
    assert d.reason == (
        "Supermajority: Board the train had 55 % of 20 votes, short of 67 %; "
        "the director's cut 'Wait' plays."
    )


def test_supermajority_met_plays_the_leader():
    d = run(SupermajorityPolicy(0.6), room(picks(*["board"] * 14, *["wait"] * 6), present=25))
    assert d.option == BOARD
    assert d.reason == (
        "Supermajority: Board the train had 70 % of 20 votes, meeting the 60 % needed; "
        "20 of 25 phones voted."
    )


def test_supermajority_never_prints_equal_percentages_for_a_miss():
    votes = picks(*["board"] * 666, *["wait"] * 334)  # 66.6 % against 2/3
    d = run(SupermajorityPolicy(), room(votes))
    assert d.option == WAIT
    assert "had 66.6 % of 1000 votes, short of 66.7 %" in d.reason


def test_weighted_counts_weights_and_ignores_nonsense_weights():
    casts = (
        Cast(DeviceId("host"), Pick(WAIT), weight=2.5),
        Cast(DeviceId("a"), Pick(BOARD)),
        Cast(DeviceId("b"), Pick(BOARD)),
        Cast(DeviceId("c"), Pick(BOARD), weight=-4),
        Cast(DeviceId("d"), Pick(BOARD), weight=float("nan")),
    )
    d = run(WeightedPolicy(), room(casts))
    assert dict(d.scores) == {BOARD: 2, WAIT: 2.5}
    assert d.option == WAIT
    assert d.reason == "Weighted: Wait 2.5 votes, Board the train 2 votes; 5 of 5 phones voted."


def test_weighted_near_equal_float_sums_tie():
    casts = (
        Cast(DeviceId("a"), Pick(BOARD), 0.1),
        Cast(DeviceId("b"), Pick(BOARD), 0.2),
        Cast(DeviceId("c"), Pick(WAIT), 0.3),
    )
    assert run(WeightedPolicy(), room(casts, default=BOARD)).option == BOARD
    assert run(WeightedPolicy(), room(casts, default=WAIT)).option == WAIT


MOODY = options(
    "board", "wait", "cellar", moods={"board": {"arousal": "high"}, "wait": {"arousal": "low"}}
)


def test_mood_picks_the_nearest_target_over_the_votes():
    excited = Mood(valence=0.1, arousal=0.45, engagement=0.7, viewers=8)
    d = run(MoodPolicy(), room(picks("wait", "wait", "cellar"), opts=MOODY, mood=excited))
    assert d.option == BOARD
    assert d.reason == (
        "Mood: the room (valence 0.1, arousal 0.45, engagement 0.7, 8 cameras) is closest to "
        "'Board the train' (98 % match); 3 of 3 phones voted."
    )


def test_mood_decides_without_votes_when_cameras_read_the_room():
    calm = Mood(valence=0.0, arousal=-0.6, engagement=0.4, viewers=3)
    d = run(MoodPolicy(), room((), present=3, opts=MOODY, default=BOARD, mood=calm))
    assert d.option == WAIT


def test_mood_option_without_a_target_never_wins_on_mood():
    # The room sits exactly between the two targets' extremes; cellar has no target.
    far = Mood(valence=0.0, arousal=0.0, engagement=0.5, viewers=5)
    d = run(MoodPolicy(), room(picks(*["cellar"] * 5), opts=MOODY, default=CELLAR, mood=far))
    assert d.option in (BOARD, WAIT)


def test_mood_ties_broken_by_votes_then_the_tie_rule():
    level = Mood(valence=0.0, arousal=0.0, engagement=0.5, viewers=5)
    d = run(
        MoodPolicy(), room(picks("wait", "wait", "board"), opts=MOODY, default=BOARD, mood=level)
    )
    assert d.option == WAIT
    assert "level on mood with another option but ahead on votes" in d.reason
    d = run(MoodPolicy(), room(picks("wait", "board"), opts=MOODY, default=BOARD, mood=level))
    assert d.option == BOARD
    assert "level on mood and votes, so the director's cut wins" in d.reason


def test_mood_without_a_reading_falls_back_to_the_vote_and_says_so():
    for reading in (None, Mood(0.0, 0.9, 0.9, viewers=0)):
        d = run(MoodPolicy(), room(picks("wait", "wait", "board"), opts=MOODY, mood=reading))
        assert d.option == WAIT
        assert d.reason == (
            "Mood: no camera reading, so the vote decides: Wait 2 votes, Board the train 1 vote; "
            "3 of 3 phones voted."
        )
    d = run(MoodPolicy(), room((), present=3, opts=MOODY, default=BOARD))
    assert d.option == BOARD
    assert d.reason.startswith("Nobody voted")


def test_mood_without_any_target_lets_the_vote_decide():
    d = run(MoodPolicy(), room(picks("board"), mood=Mood(0, 0, 0.5, viewers=2)))
    assert d.option == BOARD
    assert d.reason.startswith("Mood: no option has a mood target, so the vote decides")


def test_resolve_mood_target_maps_levels_and_clamps_numbers():
    assert resolve_mood_target({"engagement": "high", "valence": -3}) == (
        ("valence", -1.0),
        ("engagement", 0.8),
    )
    with pytest.raises(ValueError, match="dimension"):
        resolve_mood_target({"joy": "high"})
    with pytest.raises(ValueError, match="level"):
        resolve_mood_target({"arousal": "extreme"})
    with pytest.raises(ValueError, match="finite"):
        resolve_mood_target({"arousal": float("nan")})


def test_explore_reason_names_the_picks_history():
    history = {VOTE: {CELLAR: ArmStats(plays=2, reward=0.82)}}
    opts = options("board", "wait", "cellar")
    policy = ExplorePolicy(history=history, vote_weight=10.0)
    votes = picks(*["cellar"] * 7, *["board"] * 5)
    d = run(policy, room(votes, opts=opts))
    assert d.option == CELLAR
    assert d.reason == (
        "Explore: 'Cellar' played 2 times before, mean engagement 0.41; "
        "7 of 12 phones voted for it."
    )


def test_explore_tries_unseen_options_without_votes():
    d = run(ExplorePolicy(), room((), present=4, opts=options("board", "wait", "cellar")), seed=5)
    assert "has not played before, so it gets a try; 0 of 4 phones voted for it." in d.reason


def test_explore_explores_every_option_over_many_seeds_and_exploits_liked_ones():
    opts = options("board", "wait", "cellar")
    fresh = Counter(run(ExplorePolicy(), room((), 3, opts=opts), seed=s).option for s in range(300))
    assert set(fresh) == {BOARD, WAIT, CELLAR}
    liked = ExplorePolicy(
        {VOTE: {BOARD: ArmStats(40, 36.0), WAIT: ArmStats(40, 4.0), CELLAR: ArmStats(40, 4.0)}}
    )
    known = Counter(run(liked, room((), 3, opts=opts), seed=s).option for s in range(300))
    assert known[BOARD] > 280


def test_explore_gives_the_room_a_say():
    dull = ExplorePolicy({VOTE: {BOARD: ArmStats(50, 0.0)}})
    opts = options("board", "wait")
    wins = sum(
        run(dull, room(picks("board", "board"), opts=opts), seed=s).option == BOARD
        for s in range(100)
    )
    assert wins > 50  # unanimous room, weight 1, beats a branch no audience liked


def test_explore_history_is_copied_so_later_changes_do_not_leak():
    history = {VOTE: {BOARD: ArmStats(1, 1.0)}}
    policy = ExplorePolicy(history)
    history[VOTE][WAIT] = ArmStats(3, 0.0)
    history[ChoiceId("other")] = {}
    assert WAIT not in policy.history[VOTE]
    assert "other" not in policy.history


def test_explore_keeps_history_per_choice():
    # The same option id at another story node must not borrow this node's history.
    liked_elsewhere = ExplorePolicy({ChoiceId("elsewhere"): {BOARD: ArmStats(40, 40.0)}})
    opts = options("board", "wait")
    wins = Counter(run(liked_elsewhere, room((), 3, opts=opts), seed=s).option for s in range(200))
    assert 60 < wins[BOARD] < 140  # no history here: a coin flip, not a sure thing


def test_number_shows_whole_numbers_as_ints():
    assert [number(x) for x in (14.0, 3.5, 0.41234, 2.0000000001)] == ["14", "3.5", "0.41", "2"]


# --- the registry ----------------------------------------------------------------------


def test_every_policy_round_trips_through_its_spec():
    policies = [policy_from_spec({"name": n}) for n in POLICY_NAMES]
    policies += [
        SupermajorityPolicy(0.75),
        ExplorePolicy({VOTE: {BOARD: ArmStats(3, 1.25), WAIT: ArmStats(0, 0.0)}}, vote_weight=0.5),
    ]
    for policy in policies:
        spec = json.loads(json.dumps(policy.spec()))  # JSON-ready, as persisted
        assert spec["name"] == policy.name
        assert policy_from_spec(spec) == policy


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        ({"name": "dictator"}, "unknown-policy"),
        ({}, "unknown-policy"),
        ({"name": "plurality", "threshold": 0.5}, "bad-policy-params"),
        ({"name": "supermajority", "threshold": 0}, "bad-policy-params"),
        ({"name": "supermajority", "threshold": 1.5}, "bad-policy-params"),
        ({"name": "supermajority", "threshold": True}, "bad-policy-params"),
        ({"name": "supermajority", "threshold": "2/3"}, "bad-policy-params"),
        ({"name": "explore", "vote_weight": -1}, "bad-policy-params"),
        ({"name": "explore", "history": []}, "bad-policy-params"),
        ({"name": "explore", "history": {"v": []}}, "bad-policy-params"),
        ({"name": "explore", "history": {"v": {"a": {"plays": 1}}}}, "bad-policy-params"),
        (
            {"name": "explore", "history": {"v": {"a": {"plays": 1, "reward": 2}}}},
            "bad-policy-params",
        ),
        (
            {"name": "explore", "history": {"v": {"a": {"plays": 1.5, "reward": 0}}}},
            "bad-policy-params",
        ),
    ],
)
def test_bad_specs_raise_policy_error_with_a_stable_code(spec, code):
    with pytest.raises(PolicyError) as info:
        policy_from_spec(spec)
    assert info.value.code == code
    assert isinstance(info.value, ValueError)
