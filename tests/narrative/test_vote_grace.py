"""Votes in flight at the close: cast before ``closes_at``, counted if they arrive within
the grace; the decision waits for the grace, and a claim never buys more than it."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from narrative.ballots import Pick
from narrative.events import (
    Decide,
    Join,
    Start,
    Tick,
    VoteAccepted,
    VoteCast,
    VoteRejected,
    event_from_json,
    to_json,
)
from narrative.ids import ChoiceId, DeviceId, OptionId
from narrative.policies import POLICY_NAMES, policy_from_spec
from narrative.screening import Screening
from tests.narrative.screening_story import STORY_MODEL, of, run

HALL = ChoiceId("hall")
CLOSE_AT = 15.0  # the hall's vote: opens at 5, open 10 s; the scene ends at 30
GRACE = 0.5


def opened(grace: float = GRACE, policy: str = "plurality", seed: int = 7) -> Screening:
    s = Screening(STORY_MODEL, policy_from_spec({"name": policy}), seed=seed, grace_s=grace)
    run(s, Start(0.0), Join(DeviceId("p1"), 0.0), Join(DeviceId("p2"), 0.0), Tick(5.0))
    return s


def vote(phone: str, option: str, now: float, cast_at: float | None, seq: int = 1) -> VoteCast:
    return VoteCast(DeviceId(phone), HALL, Pick(OptionId(option)), seq, now, cast_at)


def test_a_vote_cast_before_the_close_counts_when_it_arrives_within_the_grace():
    s = opened()
    assert s.next_due() == CLOSE_AT + GRACE
    assert of(Decide, run(s, Tick(CLOSE_AT))) == []  # the decision waits for the grace
    (ack,) = run(s, vote("p1", "door", CLOSE_AT + 0.3, cast_at=CLOSE_AT - 0.05))
    assert isinstance(ack, VoteAccepted)
    (decide,) = of(Decide, run(s, Tick(CLOSE_AT + GRACE)))
    assert decide.option == "door" and decide.at == CLOSE_AT + GRACE
    assert decide.turnout.voted == 1


def test_a_vote_cast_after_the_close_is_refused_even_within_the_grace():
    s = opened()
    (refused,) = run(s, vote("p1", "door", CLOSE_AT + 0.2, cast_at=CLOSE_AT + 0.1))
    assert isinstance(refused, VoteRejected) and refused.code == "window-closed"
    (refused,) = run(s, vote("p2", "door", CLOSE_AT + 0.2, cast_at=None))  # counts by arrival
    assert isinstance(refused, VoteRejected) and refused.code == "window-closed"


def test_a_claim_is_clamped_between_the_grace_and_the_arrival():
    s = opened()
    # Claimed long before, arriving within the grace: counted as cast at arrival - grace.
    (ack,) = run(s, vote("p1", "door", CLOSE_AT + 0.45, cast_at=1.0))
    assert isinstance(ack, VoteAccepted)
    # A claim from the future counts as cast when it arrived: after the close, late.
    (late,) = run(s, vote("p2", "door", CLOSE_AT + 0.1, cast_at=CLOSE_AT + 9.0))
    assert isinstance(late, VoteRejected) and late.code == "window-closed"
    # ... and before the close, in time.
    s = opened()
    (ack,) = run(s, vote("p2", "door", CLOSE_AT - 0.1, cast_at=CLOSE_AT + 9.0))
    assert isinstance(ack, VoteAccepted)


def test_after_the_decision_every_vote_is_late():
    s = opened()
    run(s, Tick(CLOSE_AT + GRACE))
    (refused,) = run(s, vote("p1", "door", CLOSE_AT + GRACE, cast_at=CLOSE_AT - 1))
    assert isinstance(refused, VoteRejected) and refused.code == "window-closed"


def test_the_decision_never_waits_past_the_scene_end():
    s = opened(grace=100.0)
    assert s.next_due() == 30.0  # the hall ends at 30
    (decide,) = of(Decide, run(s, Tick(30.0)))
    assert decide.at == 30.0


def test_without_a_grace_a_room_decides_at_the_close_as_before():
    s = opened(grace=0.0)
    assert s.next_due() == CLOSE_AT
    decide, late = run(s, vote("p1", "door", CLOSE_AT, cast_at=CLOSE_AT - 1))
    assert isinstance(decide, Decide) and decide.at == CLOSE_AT  # decided on arrival
    assert isinstance(late, VoteRejected) and late.code == "window-closed"


def test_restore_mid_grace_and_replay_keep_the_vote_in_flight():
    events = [
        Start(0.0),
        Join(DeviceId("p1"), 0.0),
        Tick(5.0),
        Tick(CLOSE_AT + 0.1),
        vote("p1", "door", CLOSE_AT + 0.2, cast_at=CLOSE_AT - 0.1),
        Tick(CLOSE_AT + GRACE),
    ]
    original = Screening(STORY_MODEL, policy_from_spec({"name": "plurality"}), 7, GRACE)
    commands = [run(original, e) for e in events]
    again = Screening(STORY_MODEL, policy_from_spec({"name": "plurality"}), 7, GRACE)
    replayed = [run(again, event_from_json(json.loads(json.dumps(to_json(e))))) for e in events]
    assert replayed == commands
    mid = Screening(STORY_MODEL, policy_from_spec({"name": "plurality"}), 7, GRACE)
    run(mid, *events[:4])
    restored = Screening.restore(STORY_MODEL, json.loads(json.dumps(mid.snapshot())))
    assert restored.grace_s == GRACE
    assert [run(restored, e) for e in events[4:]] == commands[4:]


def test_a_version_4_snapshot_restores_with_no_grace_and_draws_as_it_would_have():
    """Before grace and draws at the open, a vote drew at its decision: restoring such a
    snapshot mid-vote draws now, from the generator as it was, so the same decision."""
    before_open = Screening(STORY_MODEL, policy_from_spec({"name": "explore"}), seed=5)
    run(before_open, Start(0.0), Join(DeviceId("p1"), 0.0), Tick(4.0))
    rng_before_open = before_open.snapshot()["rng"]
    s = Screening(STORY_MODEL, policy_from_spec({"name": "explore"}), seed=5)
    run(s, Start(0.0), Join(DeviceId("p1"), 0.0), Tick(5.0))
    old = json.loads(json.dumps(s.snapshot()))
    old["version"], old["rng"] = 4, rng_before_open
    del old["grace_s"], old["vote"]["decide_at"], old["vote"]["draw"]
    restored = Screening.restore(STORY_MODEL, old)
    assert restored.grace_s == 0.0 and restored.next_due() == CLOSE_AT
    assert of(Decide, run(restored, Tick(CLOSE_AT))) == of(Decide, run(s, Tick(CLOSE_AT)))


claims = st.one_of(st.none(), st.floats(-2, 2, allow_nan=False))
arrivals = st.lists(
    st.tuples(st.sampled_from(["p1", "p2"]), st.floats(5, 17, allow_nan=False), claims),
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(
    votes=arrivals,
    grace=st.floats(0, 2, allow_nan=False),
    policy=st.sampled_from(POLICY_NAMES),
    cut=st.integers(0, 12),
)
def test_any_claims_replay_and_restore_exactly(votes, grace, policy, cut):
    events: list = [Start(0.0), Join(DeviceId("p1"), 0.0), Join(DeviceId("p2"), 0.0)]
    for seq, (phone, now, claim) in enumerate(sorted(votes, key=lambda v: v[1]), start=1):
        cast_at = None if claim is None else now + claim
        events.append(vote(phone, "door" if seq % 2 else "stairs", now, cast_at, seq))
    events.append(Tick(31.0))

    def fresh() -> Screening:
        return Screening(STORY_MODEL, policy_from_spec({"name": policy}), 9, grace)

    original = fresh()
    commands = [run(original, e) for e in events]
    for batch in commands:
        for command in batch:
            if isinstance(command, VoteAccepted):
                assert command.now < CLOSE_AT + grace or command.now <= 30.0
    again = fresh()
    assert [run(again, event_from_json(json.loads(json.dumps(to_json(e))))) for e in events] == (
        commands
    )
    cut = min(cut + 3, len(events))
    mid = fresh()
    run(mid, *events[:cut])
    restored = Screening.restore(STORY_MODEL, json.loads(json.dumps(mid.snapshot())))
    assert [run(restored, e) for e in events[cut:]] == commands[cut:]
