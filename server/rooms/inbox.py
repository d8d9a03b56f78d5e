"""What goes into a room's inbox: a page arrived, a page left, a page said something,
the server's camera analysis read a phone's face (`Sensed`), a fill-in job came back
(`Generated`, judged by the room's `FillIns` into `Judged` before the core sees it)."""

from __future__ import annotations

from dataclasses import dataclass

from genmodels.jobs import Result
from mobile_bridge.protocol import Affect, HostCommand, Vote
from narrative.ballots import Approval, Ballot, Pick, Ranking
from narrative.events import AffectSample, FillIn
from narrative.ids import OptionId
from server.persistence.records import AssetRecord
from server.rooms.audience import PageRef


@dataclass(frozen=True, slots=True)
class Attach:
    """A page arrived. ``resumed``: a page whose socket stayed open while its room changed
    owner (or missed what the room sent): it is taken in again and welcomed with the state
    as it is, and its phone, still in the screening, does not join again."""

    page: PageRef
    resumed: bool = False


@dataclass(frozen=True, slots=True)
class Detach:
    page: PageRef


@dataclass(frozen=True, slots=True)
class Incoming:
    page: PageRef
    message: Vote | Affect | HostCommand
    received_at: float  # room clock when the socket read it
    cast_at: float | None = None  # a vote's cast time on the room clock, as the edge bounds it


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


@dataclass(frozen=True, slots=True)
class Judged:
    """A fill-in job's result as the room's `FillIns` judged it: its provenance to record,
    and the `FillIn` to offer the screening when its clip came back in time."""

    record: AssetRecord | None
    fill_in: FillIn | None


CoreItem = Attach | Detach | Incoming | Sensed | Judged  # what the room core takes
Inbound = CoreItem | Generated


def ballot_of(vote: Vote) -> Ballot:
    """The ballot a vote message casts (the protocol guarantees exactly one kind)."""
    if vote.ranking is not None:
        return Ranking(tuple(OptionId(o) for o in vote.ranking))
    if vote.approve is not None:
        return Approval(frozenset(OptionId(o) for o in vote.approve))
    assert vote.option is not None
    return Pick(OptionId(vote.option))


__all__ = [
    "Attach",
    "CoreItem",
    "Detach",
    "Generated",
    "Inbound",
    "Incoming",
    "Judged",
    "Sensed",
    "ballot_of",
]
