"""One count: the open vote's live tally is the policy's own running score.

What a room watches lead on the screen must be what the policy counts ahead at the close,
whatever the policy: Borda's points for a pick, approval's approvals, explore's samples
(drawn once, when the vote opens) plus its vote share, mood's closeness.
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from narrative.ballots import Approval, Pick, Ranking
from narrative.events import Decide, Join, RoomMood, Start, Tick, VoteCast
from narrative.ids import ChoiceId, DeviceId, OptionId
from narrative.policies import POLICY_NAMES
from tests.narrative.screening_story import STORY_MODEL, of, run, screening

HALL = ChoiceId("hall")
OPEN_AT, CLOSE_AT = 5.0, 15.0  # the hall's vote in the shared test story


def opened(policy: str, phones: int, seed: int = 7):
    s = screening(STORY_MODEL, policy, seed)
    run(s, Start(0.0), *(Join(DeviceId(f"p{i}"), 0.0, 1.0 + i % 3) for i in range(phones)))
    run(s, Tick(OPEN_AT))
    return s


def test_a_borda_pick_scores_as_a_ranking_of_one_on_the_live_tally():
    s = opened("borda", 3)
    run(s, VoteCast(DeviceId("p0"), HALL, Pick(OptionId("door")), 1, 6.0))
    run(s, VoteCast(DeviceId("p1"), HALL, Ranking((OptionId("stairs"), OptionId("door"))), 1, 6.0))
    live = s.live_tally(7.0)
    assert live is not None
    # Two visible options (the cellar is hidden): first place is worth 1 point.
    assert dict(live.scores) == {"stairs": 1.0, "door": 1.0}
    assert (live.turnout.voted, live.turnout.present) == (2, 3)
    (decide,) = of(Decide, run(s, Tick(CLOSE_AT)))
    assert decide.tally == live.scores


def test_reading_the_live_tally_draws_nothing():
    s = opened("explore", 2, seed=11)
    before = s.snapshot()
    assert s.live_tally(6.0) == s.live_tally(6.0)
    assert s.snapshot() == before


def test_no_live_tally_without_an_open_vote():
    s = opened("plurality", 1)
    assert s.live_tally(4.0) is not None  # opened at 5 by the tick: still open
    run(s, Tick(CLOSE_AT))
    assert s.live_tally(CLOSE_AT) is None


OPTIONS = [OptionId("stairs"), OptionId("door"), OptionId("cellar")]
ballots = st.one_of(
    st.builds(Pick, st.sampled_from(OPTIONS[:2])),
    st.builds(
        Ranking,
        st.permutations(OPTIONS[:2]).flatmap(
            lambda p: st.integers(1, 2).map(lambda n: tuple(p[:n]))
        ),
    ),
    st.builds(Approval, st.frozensets(st.sampled_from(OPTIONS[:2]), min_size=1)),
)
unit = st.floats(-1, 1, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(
    policy=st.sampled_from(POLICY_NAMES),
    casts=st.lists(st.tuples(st.integers(0, 7), ballots), max_size=25),
    mood=st.one_of(st.none(), st.tuples(unit, unit, st.floats(0, 1), st.integers(1, 8))),
    seed=st.integers(0, 2**32),
)
def test_the_last_live_tally_ranks_the_options_as_the_decision_does(policy, casts, mood, seed):
    s = opened(policy, 8, seed)
    if mood is not None:
        valence, arousal, engagement, viewers = mood
        run(s, RoomMood(valence, arousal, engagement, viewers, 8, 5.5))
    now = 6.0
    for seq, (phone, ballot) in enumerate(casts, start=1):
        run(s, VoteCast(DeviceId(f"p{phone}"), HALL, ballot, seq, now))
        now += 0.01
    live = s.live_tally(CLOSE_AT - 0.01)
    assert live is not None
    (decide,) = of(Decide, run(s, Tick(CLOSE_AT)))
    assert _ranking(live.scores) == _ranking(decide.tally)
    assert live.scores == decide.tally
    assert live.turnout == decide.turnout


def _ranking(scores):
    order = {option: i for i, (option, _) in enumerate(scores)}
    return sorted(order, key=lambda o: (-dict(scores)[o], order[o]))


def test_explore_decides_with_the_samples_it_drew_as_the_vote_opened():
    """The draw moved from the close to the open: the generator gives the same numbers in
    the same order, so a room screening before and after the change decides alike."""
    a, b = opened("explore", 2, seed=3), opened("explore", 2, seed=3)
    live = a.live_tally(6.0)
    (decide,) = of(Decide, run(b, Tick(CLOSE_AT)))
    assert live is not None and live.scores == decide.tally
    rng = random.Random(3)
    samples = [rng.betavariate(1, 1) for _ in range(2)]  # two visible options, no history
    assert [score for _, score in decide.tally] == samples
