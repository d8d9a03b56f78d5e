"""The script assistant's drafts: a small repository over the ``drafts`` table.

A draft is written against one story version (``story_id``). Approving it saves a new
story and records it as ``approved_story_id``, so the approved drafts chain versions:
the room's story → the story with the first approved branch → … `Drafts.versions`
follows that chain in approval order, and its last entry is the version the studio edits
next (the head). Nothing here decides anything: status changes are conditional updates
(``WHERE status = 'draft'``), so two approvals racing for one draft cannot both win.

It shares the `Store`'s engine (``store.engine``) and, like the store, hands out frozen
records, never ORM rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.persistence.errors import WriteRejected
from server.persistence.models import DraftRow
from server.persistence.records import JsonObject, utc_now
from server.persistence.store import WallClock

DraftStatus = Literal["draft", "approved", "discarded"]
DraftKind = Literal["card", "prompt"]


@dataclass(frozen=True, slots=True)
class NewDraft:
    story_id: int
    node: str
    kind: DraftKind
    label: str
    text: str
    brief: JsonObject  # theme, mood, characters
    provenance: JsonObject  # backend, model, seed, prompt, seconds, new_tokens, raw
    diversity: float = 1.0
    similar: bool = False
    nearest: str | None = None


@dataclass(frozen=True, slots=True)
class DraftScore:
    draft_id: int
    diversity: float
    similar: bool
    nearest: str | None


@dataclass(frozen=True, slots=True)
class DraftRecord:
    id: int
    story_id: int
    node: str
    kind: DraftKind
    label: str
    text: str
    brief: JsonObject
    diversity: float
    similar: bool
    nearest: str | None
    provenance: JsonObject
    status: DraftStatus
    approved_story_id: int | None
    created_at: datetime
    updated_at: datetime


class Drafts:
    def __init__(self, engine: AsyncEngine, *, wall_clock: WallClock = utc_now) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._now = wall_clock

    async def create(self, drafts: Sequence[NewDraft]) -> list[DraftRecord]:
        """Store new drafts (status ``draft``), in order.

        Raises:
            WriteRejected: a story id that does not exist.
        """
        now = self._now()
        rows = [
            DraftRow(
                **{f.name: getattr(d, f.name) for f in dataclasses.fields(d)},
                status="draft",
                approved_story_id=None,
                created_at=now,
                updated_at=now,
            )
            for d in drafts
        ]
        async with self._write("create_drafts") as session:
            session.add_all(rows)
            await session.flush()
            return [_record(row) for row in rows]

    async def get(self, draft_id: int) -> DraftRecord | None:
        async with self._sessions() as session:
            row = await session.get(DraftRow, draft_id)
            return None if row is None else _record(row)

    async def of_stories(
        self,
        story_ids: Collection[int],
        *,
        node: str | None = None,
        status: DraftStatus | None = None,
    ) -> list[DraftRecord]:
        """The drafts written against any of ``story_ids``, oldest first."""
        query = select(DraftRow).where(DraftRow.story_id.in_(list(story_ids)))
        if node is not None:
            query = query.where(DraftRow.node == node)
        if status is not None:
            query = query.where(DraftRow.status == status)
        async with self._sessions() as session:
            return [_record(row) for row in await session.scalars(query.order_by(DraftRow.id))]

    async def edit(
        self, draft_id: int, *, label: str | None = None, text: str | None = None
    ) -> DraftRecord | None:
        """Change a live draft's words; None when it is gone or no longer a draft."""
        values: dict[str, object] = {"updated_at": self._now()}
        if label is not None:
            values["label"] = label
        if text is not None:
            values["text"] = text
        return await self._update(draft_id, values)

    async def score(self, scores: Sequence[DraftScore]) -> None:
        """Record recomputed diversity scores (drafts no longer live are left alone)."""
        async with self._write("score_drafts") as session:
            for s in scores:
                await session.execute(
                    update(DraftRow)
                    .where(DraftRow.id == s.draft_id, DraftRow.status == "draft")
                    .values(diversity=s.diversity, similar=s.similar, nearest=s.nearest)
                )

    async def close(
        self, draft_id: int, status: Literal["approved", "discarded"], approved_story_id: int | None
    ) -> DraftRecord | None:
        """Approve or discard a live draft; None when it is gone or was closed already.

        Raises:
            WriteRejected: ``approved_story_id`` names no story.
        """
        values = {"status": status, "approved_story_id": approved_story_id}
        return await self._update(draft_id, {**values, "updated_at": self._now()})

    async def versions(self, story_id: int) -> list[int]:
        """``story_id`` and the stories its approved drafts became, in approval order.

        Approvals apply to the newest version, so the last entry is the head: the
        version the studio shows and the next approval edits.
        """
        versions = [story_id]
        frontier = {story_id}
        async with self._sessions() as session:
            while frontier:
                rows = await session.execute(
                    select(DraftRow.approved_story_id)
                    .where(DraftRow.story_id.in_(frontier), DraftRow.status == "approved")
                    .order_by(DraftRow.updated_at, DraftRow.id)
                )
                found = [v for (v,) in rows if v is not None and v not in versions]
                versions += list(dict.fromkeys(found))
                frontier = set(found)
        return versions

    async def _update(self, draft_id: int, values: dict[str, object]) -> DraftRecord | None:
        async with self._write("update_draft") as session:
            row = await session.scalar(
                update(DraftRow)
                .where(DraftRow.id == draft_id, DraftRow.status == "draft")
                .values(**values)
                .returning(DraftRow)
            )
            return None if row is None else _record(row)

    @asynccontextmanager
    async def _write(self, operation: str) -> AsyncIterator[AsyncSession]:
        try:
            async with self._sessions.begin() as session:
                yield session
        except IntegrityError as exc:
            raise WriteRejected(operation, str(exc.orig)) from exc


def _record(row: DraftRow) -> DraftRecord:
    return DraftRecord(
        row.id, row.story_id, row.node, cast(DraftKind, row.kind), row.label, row.text,
        row.brief, row.diversity, row.similar, row.nearest, row.provenance,
        cast(DraftStatus, row.status), row.approved_story_id, row.created_at, row.updated_at,
    )  # fmt: skip


__all__ = ["DraftKind", "DraftRecord", "DraftScore", "DraftStatus", "Drafts", "NewDraft"]
