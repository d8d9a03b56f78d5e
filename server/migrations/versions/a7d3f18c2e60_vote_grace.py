"""Votes in flight at the close: each room's grace after a vote's close.

A room keeps the grace it was created with (`Settings.vote_grace_s` then), so a restart
replays its votes under the same rule. Rooms from before have none.

Revision ID: a7d3f18c2e60
Revises: e2b7c5a91d34
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7d3f18c2e60"
down_revision: str | Sequence[str] | None = "e2b7c5a91d34"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rooms") as batch:
        batch.add_column(
            sa.Column("vote_grace_s", sa.Double(), nullable=False, server_default=sa.text("0"))
        )


def downgrade() -> None:
    with op.batch_alter_table("rooms") as batch:
        batch.drop_column("vote_grace_s")
