"""Groups that come back: a group's rooms, so its screenings accumulate ("Watch next").

Revision ID: d5f8a3c61e27
Revises: b9e4c2d7a180
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d5f8a3c61e27"
down_revision: str | Sequence[str] | None = "b9e4c2d7a180"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "groups",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
    )
    op.create_table(
        "group_rooms",
        sa.Column("room_code", sa.String(length=6), nullable=False),
        sa.Column("group_id", sa.String(length=32), nullable=False),
        sa.Column("added_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["room_code"],
            ["rooms.code"],
            name=op.f("fk_group_rooms_room_code_rooms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_group_rooms_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("room_code", name=op.f("pk_group_rooms")),
    )
    op.create_index(op.f("ix_group_rooms_group_id"), "group_rooms", ["group_id"])


def downgrade() -> None:
    op.drop_table("group_rooms")
    op.drop_table("groups")
