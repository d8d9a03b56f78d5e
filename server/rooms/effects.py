"""What each screening command becomes: records that make it durable, messages that tell pages.

Two tables, one row per command type (h11 keeps its transitions so): `RECORDS` says
what a command adds to the room's next commit, `MESSAGES` whom it tells and what. Every
command type has a row in both, even an empty one, so a new command cannot slip through
unpersisted or unannounced (a test checks both tables against `narrative.events.Command`).
The room core (`server.rooms.core`) applies them; nothing else builds these records or
messages. What does not follow from the command alone (the room's code, story, screening
and the host page a command came from) comes in a `Context`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mobile_bridge.protocol import Ended as EndedMessage
from mobile_bridge.protocol import Error, VoteAck, VoteRejectedMessage, dump
from narrative.consensus import Turnout
from narrative.events import (
    Command,
    Decide,
    Ended,
    EventRejected,
    MoodReport,
    OpenVote,
    PlayScene,
    StoryFault,
    VoteAccepted,
    VoteRejected,
)
from narrative.ids import ChoiceId, OptionId, SceneId
from narrative.plot import Plot
from narrative.screening import Screening
from server.persistence.records import BatchPart, DecisionRecord, MoodRecord, RoomStatus
from server.rooms.audience import EVERYONE, HOSTS, NOT_HOSTS, Item, PageKey, Send, ToDevice, ToPage
from server.rooms.views import decision_view, state_view, vote_open_view


@dataclass(frozen=True, slots=True)
class Context:
    code: str
    story: Plot  # the screening's: the graph, or the room's ink run
    screening: Screening  # as it is after the command
    seq: int  # the event that caused the command
    host: tuple[PageKey, int | None] | None = None  # the host page and command id, if any
    starting: bool = False  # the event was the screening's `Start`


def _message(target: ToPage | ToDevice, message: Any) -> list[Send]:
    return [Send(target, Item("message", dump(message)))]


def _broadcast(message: Any) -> list[Send]:
    return [Send(EVERYONE, Item("message", dump(message)))]


def _nothing(command: Any, ctx: Context) -> list[Any]:
    return []


# -- what is persisted ------------------------------------------------------------------


def decision_record(code: str, seq: int, decide: Decide) -> DecisionRecord:
    """The record of a screening's `Decide`, caused by event ``seq``."""
    return DecisionRecord(
        code, seq, decide.choice, decide.option, decide.goto, decide.policy, decide.reason,
        decide.tally, decide.turnout.voted, decide.turnout.present, decide.at,
    )  # fmt: skip


def mood_record(code: str, report: MoodReport) -> MoodRecord:
    return MoodRecord(
        code, report.scene, report.valence, report.arousal, report.engagement,
        report.viewers, report.samples, report.at,
    )  # fmt: skip


def decision_of(record: DecisionRecord) -> Decide:
    """The `Decide` a record keeps (`decision_record` the other way round)."""
    tally = tuple((OptionId(o), score) for o, score in record.tally)
    return Decide(
        ChoiceId(record.choice), OptionId(record.option), SceneId(record.goto), tally,
        record.policy, record.reason, Turnout(record.voted, record.present), record.at,
    )  # fmt: skip


def _play_record(command: PlayScene, ctx: Context) -> list[BatchPart]:
    return [RoomStatus(ctx.code, "playing")] if ctx.starting else []


RECORDS: dict[type, Callable[[Any, Context], list[BatchPart]]] = {
    PlayScene: _play_record,
    OpenVote: _nothing,
    VoteAccepted: _nothing,  # the event log holds the vote itself
    VoteRejected: _nothing,
    EventRejected: _nothing,
    Decide: lambda c, ctx: [decision_record(ctx.code, ctx.seq, c)],
    MoodReport: lambda c, ctx: [mood_record(ctx.code, c)],
    StoryFault: _nothing,
    Ended: lambda c, ctx: [RoomStatus(ctx.code, "ended")],  # and a snapshot: the core's
}

# -- what pages are told ----------------------------------------------------------------


def _rejected(command: EventRejected, ctx: Context) -> list[Send]:
    if ctx.host is None:
        return []  # not a host's action (the shell logs it)
    page, ref = ctx.host
    error = Error(code="host-rejected", message=f"{command.event}: {command.code}", ref=ref)
    return _message(ToPage(page), error)


def _ended(command: Ended, ctx: Context) -> list[Send]:
    ended = EndedMessage(reason=command.reason, at=command.at, report=None)
    report = f"/rooms/{ctx.code}/report"  # the host is told where its report page is
    return [
        Send(HOSTS, Item("message", dump(ended.model_copy(update={"report": report})))),
        Send(NOT_HOSTS, Item("message", dump(ended))),
    ]


MESSAGES: dict[type, Callable[[Any, Context], list[Send]]] = {
    PlayScene: lambda c, ctx: _broadcast(state_view(ctx.story, ctx.screening, c)),
    OpenVote: lambda c, ctx: _broadcast(vote_open_view(ctx.story, ctx.screening, c)),
    VoteAccepted: lambda c, ctx: _message(
        ToDevice(c.device), VoteAck(choice=c.choice, seq=c.seq, replaced=c.replaced)
    ),
    VoteRejected: lambda c, ctx: _message(
        ToDevice(c.device), VoteRejectedMessage(choice=c.choice, seq=c.seq, code=c.code)
    ),
    EventRejected: _rejected,
    Decide: lambda c, ctx: _broadcast(decision_view(ctx.story, c)),
    MoodReport: _nothing,  # the report page reads it from the database
    StoryFault: _nothing,
    Ended: _ended,
}


def records(command: Command, ctx: Context) -> list[BatchPart]:
    """What ``command`` adds to the room's next commit."""
    return RECORDS[type(command)](command, ctx)


def messages(command: Command, ctx: Context) -> list[Send]:
    """Whom ``command`` tells, and what."""
    return MESSAGES[type(command)](command, ctx)


__all__ = [
    "MESSAGES", "RECORDS", "Context", "decision_of", "decision_record", "messages", "records",
]  # fmt: skip
