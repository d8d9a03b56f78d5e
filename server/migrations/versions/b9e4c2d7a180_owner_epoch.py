"""Scale-out: each room's owner epoch (the fencing token of its Redis lease) and how far
its owner read the room's inbound stream.

A write of a room's owner is conditional on its epoch (`Store.commit` with a `Fence`),
so an owner that lost its lease commits nothing; the next owner reads on from
``in_offset``. Rooms of a single process keep epoch 0 and no offset.

Revision ID: b9e4c2d7a180
Revises: a7d3f18c2e60
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b9e4c2d7a180"
down_revision: str | Sequence[str] | None = "a7d3f18c2e60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rooms") as batch:
        batch.add_column(
            sa.Column("owner_epoch", sa.BigInteger(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(
            sa.Column("in_offset", sa.String(length=32), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("rooms") as batch:
        batch.drop_column("in_offset")
        batch.drop_column("owner_epoch")
