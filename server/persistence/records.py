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

from narrative.consensus import Turnout
from narrative.events import Decide, MoodReport
from narrative.ids import ChoiceId, OptionId, SceneId
from narrative.policies import policy_from_spec
from narrative.screening import Screening
from narrative.story import Story

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
    created_at: datetime = field(default_factory=utc_now)
    ended_at: datetime | None = None

    def screening(self, story: Story) -> Screening:
        """A new screening of ``story`` as this room's began: its policy, seed and grace
        (what a restore or a report replays the room's event log into).

        Raises:
            PolicyError: the stored policy no longer builds.
        """
        return Screening(story, policy_from_spec(self.policy), self.seed, self.vote_grace_s)


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

    @classmethod
    def of(cls, room_code: str, seq: int, decide: Decide) -> DecisionRecord:
        """The record of a screening's `Decide`, caused by event ``seq``."""
        return cls(
            room_code, seq, decide.choice, decide.option, decide.goto, decide.policy,
            decide.reason, decide.tally, decide.turnout.voted, decide.turnout.present,
            decide.at,
        )  # fmt: skip

    def command(self) -> Decide:
        """The `Decide` this record keeps (`of` the other way round)."""
        tally = tuple((OptionId(o), score) for o, score in self.tally)
        return Decide(
            ChoiceId(self.choice), OptionId(self.option), SceneId(self.goto), tally,
            self.policy, self.reason, Turnout(self.voted, self.present), self.at,
        )  # fmt: skip


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

    @classmethod
    def of(cls, room_code: str, report: MoodReport) -> MoodRecord:
        return cls(
            room_code, report.scene, report.valence, report.arousal, report.engagement,
            report.viewers, report.samples, report.at,
        )  # fmt: skip


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


BatchPart = (
    EventRecord | SnapshotRecord | DecisionRecord | MoodRecord | RoomStatus | ArmIncrement
    | AssetRecord
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
                case _:
                    assert_never(part)
        return cls(
            tuple(events), tuple(snapshots), tuple(decisions), tuple(moods), tuple(statuses),
            tuple(arms), tuple(assets),
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
        )

    def __len__(self) -> int:
        return (
            len(self.events) + len(self.snapshots) + len(self.decisions) + len(self.moods)
            + len(self.statuses) + len(self.arms) + len(self.assets)
        )  # fmt: skip
