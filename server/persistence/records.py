"""What the Room actors hand to the store and get back from it: frozen values, never ORM rows.

A record is a plain value, so a caller can keep it past the transaction that read it,
compare it in a test and build it without a session. Timestamps are timezone-aware UTC
wall-clock times (audit only); room-clock times (``at``) are float seconds since the
room's epoch, as the narrative core counts them.

`Batch` is the unit of the group commit: everything the room actors produced since the
last commit, for any number of rooms, written in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, assert_never

StoryFormat = Literal["yaml", "json"]
RoomMode = Literal["phones-play", "big-screen"]
RoomState = Literal["waiting", "playing", "ended"]
SeatRole = Literal["phone", "screen", "host"]

# What `narrative.events.to_json` and `Screening.snapshot()` return: JSON-ready values.
JsonObject = dict[str, object]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class StoryRecord:
    id: int
    digest: str  # 16 hex characters of the source's hash: the story's identity
    title: str
    source: str  # the story file's text, as uploaded
    fmt: StoryFormat
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RoomRecord:
    code: str
    story_id: int
    policy: JsonObject  # a policy spec: {"name": "explore", "history": {...}}
    mode: RoomMode
    seed: int
    status: RoomState
    epoch: float  # UNIX seconds at room-clock 0, so the room clock survives a restart
    show_tally: bool
    vote_grace_s: float = 0.0  # a ballot cast before a vote's close may arrive this late
    owner_epoch: int = 0  # the fencing token of the room's latest owner (0: single process)
    in_offset: str = ""  # how far its owner read the room's inbound stream
    created_at: datetime = field(default_factory=utc_now)
    ended_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SeatRecord:
    device_id: str
    room_code: str
    nickname: str
    role: SeatRole
    weight: float = 1.0
    joined_at: datetime = field(default_factory=utc_now)


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One entry of a screening's append-only log; ``seq`` counts from 1 per room."""

    room_code: str
    seq: int
    kind: str
    payload: JsonObject  # the event as `narrative.events.to_json` gives it
    at: float  # room clock, seconds


@dataclass(frozen=True, slots=True)
class SnapshotRecord:
    """`Screening.snapshot()` taken after event ``seq``: replay starts after it."""

    room_code: str
    seq: int
    data: JsonObject


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    room_code: str
    seq: int  # the event that caused the decision
    choice: str
    option: str
    goto: str
    policy: str
    reason: str
    tally: tuple[tuple[str, float], ...]  # (option, weight) in the order the policy gave
    voted: int
    present: int
    at: float  # room clock, seconds


@dataclass(frozen=True, slots=True)
class MoodRecord:
    """How the room felt during one scene (nothing per viewer is ever persisted)."""

    room_code: str
    scene: str
    valence: float
    arousal: float
    engagement: float
    viewers: int
    samples: int
    at: float  # room clock, seconds


@dataclass(frozen=True, slots=True)
class ArmIncrement:
    """Add ``plays`` and ``reward`` to what the explore policy knows of one option."""

    story_digest: str
    choice: str
    option: str
    plays: int
    reward: float


@dataclass(frozen=True, slots=True)
class RoomStatus:
    code: str
    status: RoomState
    ended_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AssetRecord:
    """A fill-in job's outcome and its provenance (``genmodels.jobs.Provenance``)."""

    job_id: str
    room_code: str
    scene: str
    status: str  # done | failed | rejected | late
    media: str | None
    backend: str
    model: str
    prompt: str
    seed: int
    duration_s: float
    timings: dict[str, float]
    style_score: float | None
    worker: str
    code: str | None
    at: float  # room clock when the result came back


@dataclass(frozen=True, slots=True)
class Fence:
    """Write this room's part of the batch only as its owner of ``epoch`` (a Redis lease's
    fencing token, `server.cluster`), and note how far into the room's inbound stream it
    is: an owner that lost its lease can commit nothing, and the next owner reads on
    from ``in_offset``. Rooms of a single process have no fence."""

    room_code: str
    epoch: int
    in_offset: str  # the last inbound stream entry this batch accounts for ("" for none)


BatchPart = (
    EventRecord | SnapshotRecord | DecisionRecord | MoodRecord | RoomStatus | ArmIncrement
    | AssetRecord | Fence
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Batch:
    """Everything one group commit writes, in one transaction.

    Build one from loose parts with ``Batch.of(*parts)`` and join batches with
    ``a.merge(b, ...)``; both keep the order parts were given in.
    """

    events: tuple[EventRecord, ...] = ()
    snapshots: tuple[SnapshotRecord, ...] = ()
    decisions: tuple[DecisionRecord, ...] = ()
    moods: tuple[MoodRecord, ...] = ()
    statuses: tuple[RoomStatus, ...] = ()
    arms: tuple[ArmIncrement, ...] = ()
    assets: tuple[AssetRecord, ...] = ()
    fences: tuple[Fence, ...] = ()

    @classmethod
    def of(cls, *parts: BatchPart) -> Batch:
        return cls.from_parts(parts)

    @classmethod
    def from_parts(cls, parts: Iterable[BatchPart]) -> Batch:
        events: list[EventRecord] = []
        snapshots: list[SnapshotRecord] = []
        decisions: list[DecisionRecord] = []
        moods: list[MoodRecord] = []
        statuses: list[RoomStatus] = []
        arms: list[ArmIncrement] = []
        assets: list[AssetRecord] = []
        fences: list[Fence] = []
        for part in parts:
            match part:
                case EventRecord():
                    events.append(part)
                case SnapshotRecord():
                    snapshots.append(part)
                case DecisionRecord():
                    decisions.append(part)
                case MoodRecord():
                    moods.append(part)
                case RoomStatus():
                    statuses.append(part)
                case ArmIncrement():
                    arms.append(part)
                case AssetRecord():
                    assets.append(part)
                case Fence():
                    fences.append(part)
                case _:
                    assert_never(part)
        return cls(
            tuple(events), tuple(snapshots), tuple(decisions), tuple(moods), tuple(statuses),
            tuple(arms), tuple(assets), tuple(fences),
        )  # fmt: skip

    def merge(self, *others: Batch) -> Batch:
        batches = (self, *others)
        return Batch(
            events=tuple(e for b in batches for e in b.events),
            snapshots=tuple(s for b in batches for s in b.snapshots),
            decisions=tuple(d for b in batches for d in b.decisions),
            moods=tuple(m for b in batches for m in b.moods),
            statuses=tuple(s for b in batches for s in b.statuses),
            arms=tuple(a for b in batches for a in b.arms),
            assets=tuple(a for b in batches for a in b.assets),
            fences=tuple(f for b in batches for f in b.fences),
        )

    def __len__(self) -> int:
        return (
            len(self.events) + len(self.snapshots) + len(self.decisions) + len(self.moods)
            + len(self.statuses) + len(self.arms) + len(self.assets) + len(self.fences)
        )  # fmt: skip
