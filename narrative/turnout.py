"""Turnout over time: how many phones had voted at each instant of each vote window.

Rebuilt after the fact by replaying a screening's event log into a fresh `Screening`
(replay is exact: the log holds every event that changed something), so the live room
keeps nothing extra for its report.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from narrative.events import Decide, Event, OpenVote, VoteAccepted
from narrative.ids import ChoiceId, DeviceId
from narrative.screening import Screening


@dataclass(frozen=True, slots=True)
class TurnoutPoint:
    at: float  # room clock, seconds
    voted: int  # distinct phones that had voted by then
    present: int  # phones in the room then


@dataclass(slots=True)
class VoteWindow:
    """One vote window, from its opening to its decision."""

    choice: ChoiceId
    opened_at: float
    closes_at: float
    points: list[TurnoutPoint] = field(default_factory=list)
    decided_at: float | None = None
    _voters: set[DeviceId] = field(default_factory=set, repr=False)


def turnout_timeline(screening: Screening, events: Iterable[Event]) -> list[VoteWindow]:
    """Replay ``events`` into ``screening`` (fresh, built as the room's was) and chart turnout.

    Returns:
        The vote windows in the order they opened. Each starts with a point at its
        opening (nobody voted yet), gains a point whenever a phone casts its first
        accepted vote, and ends with the decision's own turnout.
    """
    windows: list[VoteWindow] = []
    open_windows: dict[ChoiceId, VoteWindow] = {}
    for event in events:
        for command in screening.handle(event):
            match command:
                case OpenVote(choice=choice, opens_at=opens_at, closes_at=closes_at):
                    window = VoteWindow(choice, opens_at, closes_at)
                    window.points.append(TurnoutPoint(opens_at, 0, screening.present))
                    windows.append(window)
                    open_windows[choice] = window
                case VoteAccepted(device=device, choice=choice, now=now):
                    window_or_none = open_windows.get(choice)
                    if window_or_none is not None and device not in window_or_none._voters:
                        window_or_none._voters.add(device)
                        voted = len(window_or_none._voters)
                        window_or_none.points.append(TurnoutPoint(now, voted, screening.present))
                case Decide(choice=choice, turnout=turnout, at=at):
                    closed = open_windows.pop(choice, None)
                    if closed is not None:
                        closed.points.append(TurnoutPoint(at, turnout.voted, turnout.present))
                        closed.decided_at = at
    return windows


__all__ = ["TurnoutPoint", "VoteWindow", "turnout_timeline"]
