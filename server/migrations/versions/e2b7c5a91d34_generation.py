"""Generation: fill-in assets with their provenance, and the script assistant's drafts.

Revision ID: e2b7c5a91d34
Revises: c4a1e7d2f9b0
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e2b7c5a91d34"
down_revision: str | Sequence[str] | None = "c4a1e7d2f9b0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "generated_assets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("room_code", sa.String(length=6), nullable=False),
        sa.Column("scene", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("media", sa.Text(), nullable=True),
        sa.Column("backend", sa.String(length=16), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("duration_s", sa.Double(), nullable=False),
        sa.Column("timings", sa.JSON(), nullable=False),
        sa.Column("style_score", sa.Double(), nullable=True),
        sa.Column("worker", sa.Text(), nullable=False),
        sa.Column("code", sa.Text(), nullable=True),
        sa.Column("at", sa.Double(), nullable=False),
        sa.CheckConstraint(
            "status IN ('done', 'failed', 'rejected', 'late')",
            name=op.f("ck_generated_assets_status"),
        ),
        sa.ForeignKeyConstraint(
            ["room_code"],
            ["rooms.code"],
            name=op.f("fk_generated_assets_room_code_rooms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_generated_assets")),
        sa.UniqueConstraint("job_id", name=op.f("uq_generated_assets_job_id")),
    )
    op.create_index(op.f("ix_generated_assets_room_code"), "generated_assets", ["room_code"])
    op.create_table(
        "drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("node", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("brief", sa.JSON(), nullable=False),
        sa.Column("diversity", sa.Double(), nullable=False),
        sa.Column("similar", sa.Boolean(), nullable=False),
        sa.Column("nearest", sa.Text(), nullable=True),
        sa.Column("provenance", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("approved_story_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'approved', 'discarded')", name=op.f("ck_drafts_status")
        ),
        sa.CheckConstraint("kind IN ('card', 'prompt')", name=op.f("ck_drafts_kind")),
        sa.ForeignKeyConstraint(
            ["story_id"],
            ["stories.id"],
            name=op.f("fk_drafts_story_id_stories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["approved_story_id"],
            ["stories.id"],
            name=op.f("fk_drafts_approved_story_id_stories"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drafts")),
    )
    op.create_index(op.f("ix_drafts_story_id"), "drafts", ["story_id"])


def downgrade() -> None:
    op.drop_table("drafts")
    op.drop_table("generated_assets")
