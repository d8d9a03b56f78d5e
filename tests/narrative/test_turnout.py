"""Turnout over time, rebuilt by replaying a screening's events."""

from __future__ import annotations

from narrative.ballots import Pick
from narrative.events import Join, Leave, Start, Tick, VoteCast
from narrative.ids import ChoiceId, DeviceId, OptionId
from narrative.turnout import TurnoutPoint, turnout_timeline
from tests.narrative.screening_story import STORY_MODEL, screening

HALL = ChoiceId("hall")


def vote(device: str, option: str, seq: int, now: float) -> VoteCast:
    return VoteCast(DeviceId(device), HALL, Pick(OptionId(option)), seq, now)


def test_each_phone_counts_once_from_its_first_accepted_vote_to_the_decision():
    events = [
        Join(DeviceId("a"), 0.0),
        Join(DeviceId("b"), 0.0),
        Join(DeviceId("c"), 0.0),
        Start(0.0),
        Tick(5.0),  # the hall's vote opens at 5 s and closes at 15 s
        vote("a", "stairs", 1, 6.0),
        vote("b", "door", 1, 7.0),
        vote("a", "door", 2, 8.0),  # a changes its mind: still one voter
        vote("c", "nowhere", 1, 9.0),  # refused: not a voter
        Leave(DeviceId("c"), 10.0),
        Tick(15.0),
    ]
    [window] = turnout_timeline(screening(STORY_MODEL), events)
    assert (window.choice, window.opened_at, window.closes_at) == (HALL, 5.0, 15.0)
    assert window.points == [
        TurnoutPoint(5.0, 0, 3),
        TurnoutPoint(6.0, 1, 3),
        TurnoutPoint(7.0, 2, 3),
        TurnoutPoint(15.0, 2, 2),
    ]
    assert window.decided_at == 15.0


def test_a_window_that_never_closed_has_no_decision_point():
    events = [Join(DeviceId("a"), 0.0), Start(0.0), Tick(5.0), vote("a", "door", 1, 6.0)]
    [window] = turnout_timeline(screening(STORY_MODEL), events)
    assert window.decided_at is None
    assert [p.voted for p in window.points] == [0, 1]


def test_no_vote_no_window():
    assert turnout_timeline(screening(STORY_MODEL), [Start(0.0), Tick(1.0)]) == []
