"""What goes into a room's inbox: a page arrived, a page left, a page said something,
the server's camera analysis read a phone's face (`Sensed`), a fill-in job came back
(`Generated`)."""

from __future__ import annotations

from dataclasses import dataclass

from genmodels.jobs import Result
from mobile_bridge.protocol import Affect, HostCommand, Vote
from narrative.ballots import Approval, Ballot, Pick, Ranking
from narrative.events import AffectSample
from narrative.ids import OptionId
from server.rooms.page import Page


@dataclass(frozen=True, slots=True)
class Attach:
    page: Page


@dataclass(frozen=True, slots=True)
class Detach:
    page: Page


@dataclass(frozen=True, slots=True)
class Incoming:
    page: Page
    message: Vote | Affect | HostCommand
    received_at: float  # room clock when the socket read it: votes count by arrival


@dataclass(frozen=True, slots=True)
class Sensed:
    """An affect sample from server-side camera analysis, stamped with the room clock
    when its result came back (as a phone's own `affect` message is when it arrives)."""

    sample: AffectSample


@dataclass(frozen=True, slots=True)
class Generated:
    """A fill-in job's result (`server.rooms.fill_ins`), stamped with the room clock when it
    came back."""

    result: Result
    received_at: float


Inbound = Attach | Detach | Incoming | Sensed | Generated


def ballot_of(vote: Vote) -> Ballot:
    """The ballot a vote message casts (the protocol guarantees exactly one kind)."""
    if vote.ranking is not None:
        return Ranking(tuple(OptionId(o) for o in vote.ranking))
    if vote.approve is not None:
        return Approval(frozenset(OptionId(o) for o in vote.approve))
    assert vote.option is not None
    return Pick(OptionId(vote.option))


__all__ = ["Attach", "Detach", "Generated", "Inbound", "Incoming", "Sensed", "ballot_of"]
