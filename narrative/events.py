"""What goes into a `Screening` (events) and what comes out (commands).

Events are facts the shell observed; commands are orders for the shell. Both are frozen
values that carry the room-clock time (seconds) they are about, so a log of events
replays into exactly the same commands, and a log of commands is an audit trail.
Both serialise to JSON (``to_json`` / ``event_from_json``) for that log.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from narrative.ballots import Ballot, ballot_from_json, ballot_to_json
from narrative.consensus import Turnout
from narrative.ids import ChoiceId, DeviceId, OptionId, SceneId
from narrative.mood import Mood

# -- events ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Start:
    now: float


@dataclass(frozen=True, slots=True)
class Tick:
    now: float


@dataclass(frozen=True, slots=True)
class Join:
    device: DeviceId
    now: float
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Leave:
    device: DeviceId
    now: float


@dataclass(frozen=True, slots=True)
class VoteCast:
    """A phone's ballot arrived at ``now``; ``cast_at`` is when its owner cast it (room
    clock, as the shell bounds the phone's claim), None for "as it arrived". A vote cast
    before the close counts if it arrives within the screening's grace after it."""

    device: DeviceId
    choice: ChoiceId
    ballot: Ballot
    seq: int
    now: float
    cast_at: float | None = None


@dataclass(frozen=True, slots=True)
class AffectSample:
    """One phone's affect numbers, as the shell receives them (its ``affect`` message or
    the server's camera analysis).

    Not a `Screening` event: the shell keeps it in memory only (`narrative.mood.LiveMood`)
    and feeds the screening the room's aggregate as `RoomMood`, so no phone's numbers
    reach the event log or a snapshot. (Logs written before that may hold rows of this
    type; a restore skips them.)
    """

    device: DeviceId
    valence: float
    arousal: float
    engagement: float
    now: float
    heart_rate_bpm: float | None = None  # from the camera, when its estimate is confident


@dataclass(frozen=True, slots=True)
class RoomMood:
    """The room's mood changed (`narrative.mood.aggregate` over the phones' latest fresh
    samples, computed by the shell): room-level numbers only, no device.

    ``viewers``: cameras counted; ``present``: phones in the room when it was computed
    (participation is ``viewers / present``); ``heart_rate_bpm``: None when no phone
    measured one. The shell feeds one when the reading changes, at most once per tally
    interval, so the log holds the room's mood over time and replays exactly.
    """

    valence: float
    arousal: float
    engagement: float
    viewers: int
    present: int
    now: float
    heart_rate_bpm: float | None = None

    @classmethod
    def of(cls, mood: Mood, now: float) -> RoomMood:
        """The event for the reading ``mood`` (`narrative.mood.aggregate`) taken at ``now``."""
        return cls(
            mood.valence, mood.arousal, mood.engagement, mood.viewers, mood.present, now,
            mood.heart_rate_bpm,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class FillIn:
    """A generated clip for ``scene`` is ready (a fill-in job finished in time and kept the
    story's style): the scene plays ``media`` instead of its main cut if it starts next.

    ``asset`` names the job whose provenance is recorded (``genmodels``). The shell feeds
    it only while the clip can still be cued before the scene's start; the screening
    refuses it for a scene that is not a ``generate`` scene or is already playing.
    """

    scene: SceneId
    media: str
    asset: str
    now: float


@dataclass(frozen=True, slots=True)
class Skip:
    """The host skips the rest of the current scene (its vote, if any, closes now)."""

    now: float


@dataclass(frozen=True, slots=True)
class Force:
    """The host decides the current scene's choice."""

    option: OptionId
    now: float


@dataclass(frozen=True, slots=True)
class End:
    """The host ends the screening."""

    now: float


Event = Start | Tick | Join | Leave | VoteCast | RoomMood | FillIn | Skip | Force | End

# -- commands -------------------------------------------------------------------------

VoteRejectionCode = Literal[
    "not-open", "window-closed", "unknown-option", "stale-seq", "bad-ballot", "unknown-device"
]
EventRejectionCode = Literal[
    "not-started",
    "already-started",
    "ended",
    "no-choice",
    "already-decided",
    "unknown-option",
    "unknown-device",
    "not-generated",
    "already-playing",
]


@dataclass(frozen=True, slots=True)
class PlayScene:
    scene: SceneId
    variant: int | None  # index into the scene's variants, None for the main cut
    media: str | None  # None: a text scene, no clip plays
    music_gain_db: float
    starts_at: float
    ends_at: float
    generated: str | None = None  # the fill-in job whose clip plays (`FillIn`), if any
    text: str | None = None  # words on the screen and phones (a text scene, a caption)


@dataclass(frozen=True, slots=True)
class OpenVote:
    choice: ChoiceId
    options: tuple[OptionId, ...]  # visible options, story order
    opens_at: float
    closes_at: float


@dataclass(frozen=True, slots=True)
class VoteAccepted:
    device: DeviceId
    choice: ChoiceId
    seq: int
    replaced: bool  # the device's earlier vote no longer counts
    now: float


@dataclass(frozen=True, slots=True)
class VoteRejected:
    device: DeviceId
    choice: ChoiceId
    seq: int
    code: VoteRejectionCode
    now: float


@dataclass(frozen=True, slots=True)
class EventRejected:
    """A host action the screening cannot apply, with a stable code (the shell also logs an
    affect sample of an unknown device so)."""

    event: str
    code: EventRejectionCode
    now: float
    device: DeviceId | None = None


@dataclass(frozen=True, slots=True)
class Decide:
    choice: ChoiceId
    option: OptionId
    goto: SceneId
    tally: tuple[tuple[OptionId, float], ...]
    policy: str
    reason: str
    turnout: Turnout
    at: float


@dataclass(frozen=True, slots=True)
class MoodReport:
    """How the room felt during a scene that just finished: the room's `RoomMood` readings
    weighted by how long each held while a camera counted (`narrative.mood.SceneTally`);
    zeros with ``viewers`` 0 when none did."""

    scene: SceneId
    valence: float
    arousal: float
    engagement: float
    viewers: int  # the most cameras the room's mood counted during the scene
    samples: int  # room-mood readings (`RoomMood`) during the scene
    at: float


@dataclass(frozen=True, slots=True)
class StoryFault:
    """An expression failed at screening time (division by zero); the scene goes on."""

    scene: SceneId
    message: str
    at: float


@dataclass(frozen=True, slots=True)
class Ended:
    scene: SceneId | None
    reason: Literal["story", "host"]
    at: float


Command = (
    PlayScene
    | OpenVote
    | VoteAccepted
    | VoteRejected
    | EventRejected
    | Decide
    | MoodReport
    | StoryFault
    | Ended
)

_EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (Start, Tick, Join, Leave, VoteCast, RoomMood, FillIn, Skip, Force, End)
}


def to_json(value: Event | Command) -> dict[str, object]:
    """``{"type": ClassName, **fields}`` with ballots in their wire form and tuples as lists."""
    data: dict[str, object] = {"type": type(value).__name__}
    for item in dataclasses.fields(value):
        data[item.name] = _plain(getattr(value, item.name))
    return data


def _plain(value: object) -> object:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if type(value).__module__ == "narrative.ballots":
            return ballot_to_json(value)  # type: ignore[arg-type]
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def event_from_json(data: dict[str, object]) -> Event:
    """Rebuild an event written by `to_json`.

    Raises:
        ValueError: unknown type, missing or extra fields.
    """
    fields = dict(data)
    name = fields.pop("type", None)
    cls = _EVENT_TYPES.get(str(name))
    if cls is None:
        raise ValueError(f"unknown event type {name!r}")
    if "ballot" in fields:
        fields["ballot"] = ballot_from_json(fields["ballot"])
    try:
        return cls(**fields)  # type: ignore[arg-type]
    except TypeError as exc:
        raise ValueError(f"bad {name} event: {exc}") from exc


__all__ = [
    "AffectSample",
    "Command",
    "Decide",
    "End",
    "Ended",
    "Event",
    "EventRejected",
    "FillIn",
    "Force",
    "Join",
    "Leave",
    "MoodReport",
    "OpenVote",
    "PlayScene",
    "RoomMood",
    "Skip",
    "Start",
    "StoryFault",
    "Tick",
    "Turnout",
    "VoteAccepted",
    "VoteCast",
    "VoteRejected",
    "event_from_json",
    "to_json",
]
