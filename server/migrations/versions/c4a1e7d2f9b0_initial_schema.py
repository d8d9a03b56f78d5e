"""Initial schema: stories, rooms, seats, the event log, snapshots, results, arm stats.

Revision ID: c4a1e7d2f9b0
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4a1e7d2f9b0"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The models' UtcDateTime is stored as this; a migration must not import app code.
UTC_DATETIME = sa.DateTime(timezone=True)


def _room_code() -> sa.Column[str]:
    return sa.Column("room_code", sa.String(length=6), nullable=False)


def _room_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["room_code"], ["rooms.code"], name=op.f(f"fk_{table}_room_code_rooms"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "stories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("fmt", sa.String(length=4), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint("fmt IN ('yaml', 'json')", name=op.f("ck_stories_fmt")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stories")),
        sa.UniqueConstraint("digest", name=op.f("uq_stories_digest")),
    )
    op.create_table(
        "arm_stats",
        sa.Column("story_digest", sa.String(length=16), nullable=False),
        sa.Column("choice", sa.Text(), nullable=False),
        sa.Column("option", sa.Text(), nullable=False),
        sa.Column("plays", sa.Integer(), nullable=False),
        sa.Column("reward", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["story_digest"],
            ["stories.digest"],
            name=op.f("fk_arm_stats_story_digest_stories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("story_digest", "choice", "option", name=op.f("pk_arm_stats")),
    )
    op.create_table(
        "rooms",
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("epoch", sa.Double(), nullable=False),
        sa.Column("show_tally", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("ended_at", UTC_DATETIME, nullable=True),
        sa.CheckConstraint("mode IN ('phones-play', 'big-screen')", name=op.f("ck_rooms_mode")),
        sa.CheckConstraint(
            "status IN ('waiting', 'playing', 'ended')", name=op.f("ck_rooms_status")
        ),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name=op.f("fk_rooms_story_id_stories")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_rooms")),
    )
    op.create_index("ix_rooms_status", "rooms", ["status"])
    op.create_table(
        "seats",
        sa.Column("device_id", sa.String(length=64), nullable=False),
        _room_code(),
        sa.Column("nickname", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("weight", sa.Double(), nullable=False),
        sa.Column("joined_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint("role IN ('phone', 'screen', 'host')", name=op.f("ck_seats_role")),
        _room_fk("seats"),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_seats")),
    )
    op.create_index(op.f("ix_seats_room_code"), "seats", ["room_code"])
    op.create_table(
        "events",
        _room_code(),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("recorded_at", UTC_DATETIME, nullable=False),
        _room_fk("events"),
        sa.PrimaryKeyConstraint("room_code", "seq", name=op.f("pk_events")),
    )
    op.create_table(
        "snapshots",
        _room_code(),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("taken_at", UTC_DATETIME, nullable=False),
        _room_fk("snapshots"),
        sa.PrimaryKeyConstraint("room_code", "seq", name=op.f("pk_snapshots")),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        _room_code(),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("choice", sa.Text(), nullable=False),
        sa.Column("option", sa.Text(), nullable=False),
        sa.Column("goto", sa.Text(), nullable=False),
        sa.Column("policy", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("tally", sa.JSON(), nullable=False),
        sa.Column("voted", sa.Integer(), nullable=False),
        sa.Column("present", sa.Integer(), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        _room_fk("decisions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    op.create_index("ix_decisions_room_code_seq", "decisions", ["room_code", "seq"])
    op.create_table(
        "scene_moods",
        sa.Column("id", sa.Integer(), nullable=False),
        _room_code(),
        sa.Column("scene", sa.Text(), nullable=False),
        sa.Column("valence", sa.Double(), nullable=False),
        sa.Column("arousal", sa.Double(), nullable=False),
        sa.Column("engagement", sa.Double(), nullable=False),
        sa.Column("viewers", sa.Integer(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        _room_fk("scene_moods"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scene_moods")),
    )
    op.create_index(op.f("ix_scene_moods_room_code"), "scene_moods", ["room_code"])


def downgrade() -> None:
    op.drop_table("scene_moods")
    op.drop_table("decisions")
    op.drop_table("snapshots")
    op.drop_table("events")
    op.drop_table("seats")
    op.drop_table("rooms")
    op.drop_table("arm_stats")
    op.drop_table("stories")
