"""The tables, as SQLAlchemy 2 models. Only the store sees these; callers get records.

JSON columns are SQL ``JSON`` on every database, not PostgreSQL ``JSONB``: JSONB re-sorts
object keys and turns floats such as ``1e20`` into integers, and a snapshot or event
payload must come back exactly as the narrative core wrote it (replay depends on it).
Nothing queries inside these columns, so JSONB's indexing would buy nothing.

Every change here needs a migration in ``server/migrations/versions/``: a new database
is created from these models (`migrate`), an existing one migrated, and tests check that
both give the same schema.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Fixed constraint names, so migrations can name what they alter on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database.

    SQLite has no time zones: it stores the text and gives back a naive datetime, so
    values are converted to UTC on the way in and labelled UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: persistence stores aware UTC times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({listed})", name=column)


class StoryRow(Base):
    __tablename__ = "stories"
    __table_args__ = (_one_of("fmt", ("yaml", "json")),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(16), unique=True)
    title: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    fmt: Mapped[str] = mapped_column(String(4))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RoomRow(Base):
    __tablename__ = "rooms"
    __table_args__ = (
        _one_of("mode", ("phones-play", "big-screen")),
        _one_of("status", ("waiting", "playing", "ended")),
        # Restart recovery reads the rooms that are not over.
        Index("ix_rooms_status", "status"),
    )

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id"))
    policy: Mapped[dict[str, object]] = mapped_column(JSON)
    mode: Mapped[str] = mapped_column(String(16))
    seed: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(8))
    epoch: Mapped[float] = mapped_column(Double)
    show_tally: Mapped[bool]
    vote_grace_s: Mapped[float] = mapped_column(Double, server_default=text("0"))
    owner_epoch: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    in_offset: Mapped[str] = mapped_column(String(32), server_default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SeatRow(Base):
    __tablename__ = "seats"
    __table_args__ = (_one_of("role", ("phone", "screen", "host")),)

    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    room_code: Mapped[str] = mapped_column(ForeignKey("rooms.code", ondelete="CASCADE"), index=True)
    nickname: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(8))
    weight: Mapped[float] = mapped_column(Double)
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime)


class EventRow(Base):
    """The screening's append-only log: the primary key is the room's replay order."""

    __tablename__ = "events"

    room_code: Mapped[str] = mapped_column(
        ForeignKey("rooms.code", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, object]] = mapped_column(JSON)
    at: Mapped[float] = mapped_column(Double)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SnapshotRow(Base):
    __tablename__ = "snapshots"

    room_code: Mapped[str] = mapped_column(
        ForeignKey("rooms.code", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[dict[str, object]] = mapped_column(JSON)
    taken_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DecisionRow(Base):
    __tablename__ = "decisions"
    __table_args__ = (Index("ix_decisions_room_code_seq", "room_code", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_code: Mapped[str] = mapped_column(ForeignKey("rooms.code", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    choice: Mapped[str] = mapped_column(Text)
    option: Mapped[str] = mapped_column(Text)
    goto: Mapped[str] = mapped_column(Text)
    policy: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    tally: Mapped[list[list[object]]] = mapped_column(JSON)  # [[option, weight], ...]
    voted: Mapped[int] = mapped_column(Integer)
    present: Mapped[int] = mapped_column(Integer)
    at: Mapped[float] = mapped_column(Double)


class SceneMoodRow(Base):
    __tablename__ = "scene_moods"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_code: Mapped[str] = mapped_column(ForeignKey("rooms.code", ondelete="CASCADE"), index=True)
    scene: Mapped[str] = mapped_column(Text)
    valence: Mapped[float] = mapped_column(Double)
    arousal: Mapped[float] = mapped_column(Double)
    engagement: Mapped[float] = mapped_column(Double)
    viewers: Mapped[int] = mapped_column(Integer)
    samples: Mapped[int] = mapped_column(Integer)
    at: Mapped[float] = mapped_column(Double)


class ArmStatRow(Base):
    """The explore policy's memory of one option of one story node, across screenings."""

    __tablename__ = "arm_stats"

    story_digest: Mapped[str] = mapped_column(
        ForeignKey("stories.digest", ondelete="CASCADE"), primary_key=True
    )
    choice: Mapped[str] = mapped_column(Text, primary_key=True)
    option: Mapped[str] = mapped_column(Text, primary_key=True)
    plays: Mapped[int] = mapped_column(Integer)
    reward: Mapped[float] = mapped_column(Double)


class GeneratedAssetRow(Base):
    """One fill-in job's outcome and provenance (DESIGN.md, "Generation"): what made the
    clip, from which prompt and seed, what it took, and how well it kept the style."""

    __tablename__ = "generated_assets"
    __table_args__ = (_one_of("status", ("done", "failed", "rejected", "late")),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(32), unique=True)
    room_code: Mapped[str] = mapped_column(ForeignKey("rooms.code", ondelete="CASCADE"), index=True)
    scene: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8))
    media: Mapped[str | None] = mapped_column(Text)
    backend: Mapped[str] = mapped_column(String(16))
    model: Mapped[str] = mapped_column(Text)
    prompt: Mapped[str] = mapped_column(Text)
    seed: Mapped[int] = mapped_column(BigInteger)
    duration_s: Mapped[float] = mapped_column(Double)
    timings: Mapped[dict[str, float]] = mapped_column(JSON)
    style_score: Mapped[float | None] = mapped_column(Double)
    worker: Mapped[str] = mapped_column(Text)
    code: Mapped[str | None] = mapped_column(Text)
    at: Mapped[float] = mapped_column(Double)  # room clock when the result came back


class DraftRow(Base):
    """A branch draft the script assistant wrote for a story node; it reaches no audience
    until a writer approves it (then ``approved_story_id`` is the story it became part of)."""

    __tablename__ = "drafts"
    __table_args__ = (
        _one_of("status", ("draft", "approved", "discarded")),
        _one_of("kind", ("card", "prompt")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    node: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(8))
    label: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    brief: Mapped[dict[str, object]] = mapped_column(JSON)  # theme, mood, characters
    diversity: Mapped[float] = mapped_column(Double)
    similar: Mapped[bool] = mapped_column(Boolean)
    nearest: Mapped[str | None] = mapped_column(Text)
    provenance: Mapped[dict[str, object]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10))
    approved_story_id: Mapped[int | None] = mapped_column(
        ForeignKey("stories.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class GroupRow(Base):
    """A group that comes back: its screenings accumulate into what it is offered next
    (`server.recommend`). Its id is its key (random, unguessable), like a host token."""

    __tablename__ = "groups"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class GroupRoomRow(Base):
    """A room screened for a group (a room belongs to one group at most)."""

    __tablename__ = "group_rooms"

    room_code: Mapped[str] = mapped_column(
        ForeignKey("rooms.code", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    added_at: Mapped[datetime] = mapped_column(UtcDateTime)
