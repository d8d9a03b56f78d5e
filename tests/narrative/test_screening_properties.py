"""Properties of the Screening: any event sequence, replay, snapshot/restore, conditions."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from narrative.ballots import Approval, Pick, Ranking
from narrative.events import (
    Decide,
    End,
    Ended,
    Force,
    Join,
    Leave,
    OpenVote,
    PlayScene,
    RoomMood,
    Skip,
    Start,
    Tick,
    VoteAccepted,
    VoteCast,
    VoteRejected,
    event_from_json,
    to_json,
)
from narrative.policies import POLICY_NAMES
from narrative.screening import Screening
from narrative.story import Story
from narrative.yamlpos import parse_document
from tests.narrative.screening_story import STORY, STORY_MODEL, of, run, screening

# -- properties: any event sequence, replay, snapshot/restore ---------------------------

DEVICES = ["a", "b", "c"]
OPTIONS = ["stairs", "cellar", "door", "back", "on", "nope"]
CHOICES = ["hall", "garden", "attic"]

ballots = st.one_of(
    st.builds(Pick, st.sampled_from(OPTIONS)),
    st.builds(Ranking, st.lists(st.sampled_from(OPTIONS), max_size=3).map(tuple)),
    st.builds(Approval, st.frozensets(st.sampled_from(OPTIONS), max_size=3)),
)
unit = st.floats(-1.5, 1.5, allow_nan=False)
step = st.one_of(
    st.builds(lambda d: ("join", d), st.sampled_from(DEVICES)),
    st.builds(lambda d: ("leave", d), st.sampled_from(DEVICES)),
    st.builds(
        lambda *a: ("vote", *a),
        st.sampled_from(DEVICES),
        st.sampled_from(CHOICES),
        ballots,
        st.integers(0, 4),
    ),
    st.builds(lambda *a: ("mood", *a), unit, unit, unit, st.integers(0, 4)),
    st.just(("tick",)),
    st.just(("start",)),
    st.just(("skip",)),
    st.builds(lambda o: ("force", o), st.sampled_from(OPTIONS)),
    st.just(("end",)),
)
timeline = st.lists(st.tuples(st.floats(0, 12, allow_nan=False), step), max_size=40)


def to_events(items):
    now = 0.0
    events = []
    for dt, (kind, *args) in items:
        now += dt
        match kind:
            case "join":
                events.append(Join(args[0], now, weight=1.0 + len(args[0])))
            case "leave":
                events.append(Leave(args[0], now))
            case "vote":
                device, choice, ballot, seq = args
                events.append(VoteCast(device, choice, ballot, seq, now))
            case "mood":  # the room's reading, as the shell feeds it
                events.append(RoomMood(args[0], args[1], args[2], args[3], 4, now))
            case "tick":
                events.append(Tick(now))
            case "start":
                events.append(Start(now))
            case "skip":
                events.append(Skip(now))
            case "force":
                events.append(Force(args[0], now))
            case "end":
                events.append(End(now))
    return events


policies = st.sampled_from(POLICY_NAMES)


@settings(max_examples=150, deadline=None)
@given(items=timeline, policy=policies, seed=st.integers(0, 2**32))
def test_replay_reproduces_the_same_commands(items, policy, seed):
    story = STORY_MODEL
    events = to_events(items)
    original = screening(story, policy, seed)
    first = [run(original, e) for e in events]
    again = screening(story, policy, seed)
    assert [
        run(again, event_from_json(json.loads(json.dumps(to_json(e))))) for e in events
    ] == first


@settings(max_examples=150, deadline=None)
@given(items=timeline, policy=policies, seed=st.integers(0, 2**32), cut=st.integers(0, 40))
def test_restore_of_a_snapshot_continues_identically(items, policy, seed, cut):
    story = STORY_MODEL
    events = to_events(items)
    cut = min(cut, len(events))
    original = screening(story, policy, seed)
    run(original, *events[:cut])
    data = json.loads(json.dumps(original.snapshot()))
    restored = Screening.restore(story, data)
    assert restored.snapshot() == original.snapshot()
    for event in events[cut:]:
        assert restored.handle(event) == original.handle(event)
    assert restored.snapshot() == original.snapshot()


@settings(max_examples=150, deadline=None)
@given(items=timeline, policy=policies)
def test_invariants_hold_for_any_event_sequence(items, policy):
    s = screening(STORY_MODEL, policy)
    commands = run(s, *to_events(items))
    scene_end = None
    decided_in_visit: set[str] = set()
    open_window = None
    for c in commands:
        match c:
            case PlayScene():
                scene_end = c.ends_at
                decided_in_visit.clear()
            case OpenVote():
                assert c.closes_at <= scene_end - 1
                open_window = (c.opens_at, c.closes_at)
            case Decide():
                assert c.at <= scene_end
                assert c.choice not in decided_in_visit
                decided_in_visit.add(c.choice)
            case VoteAccepted():
                assert open_window and open_window[0] <= c.now < open_window[1]
            case VoteRejected():
                assert c.code in {
                    "not-open",
                    "window-closed",
                    "unknown-option",
                    "stale-seq",
                    "bad-ballot",
                    "unknown-device",
                }
    assert sum(isinstance(c, Ended) for c in commands) <= 1


@settings(max_examples=60, deadline=None)
@given(has_key=st.booleans(), visits=st.integers(-5, 5), threshold=st.integers(-5, 5))
def test_conditions_hide_exactly_the_options_whose_if_is_false(has_key, visits, threshold):
    text = STORY.replace(
        "{has_key: false, visits: 0}", f"{{has_key: {str(has_key).lower()}, visits: {visits}}}"
    )
    text = text.replace("goto: garden, set:", f"goto: garden, if: visits > {threshold}, set:")
    s = screening(Story.model_validate(parse_document(text).data))
    (vote,) = of(OpenVote, run(s, Start(0.0), Tick(5.0)))
    entered = visits + 1  # the hall's `set` runs on entry, before the vote opens
    expected = ["stairs"] + ["cellar"] * has_key + ["door"] * (entered > threshold)
    assert list(vote.options) == expected
