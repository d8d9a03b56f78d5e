"""Groups that come back: a small repository over ``groups`` and ``group_rooms``.

A group is made once (the host page keeps its id) and each room created for it is
linked to it, so its screenings accumulate. What `history` reads back is room-level
only, by construction: the room (story, status), its decisions' turnout and where they
led, and its mood per scene. It never reads ``seats``, ``events`` or ``snapshots``,
where a viewer's own votes live (a test records every statement it runs).

It shares the `Store`'s engine (``store.engine``) and hands out frozen records.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.persistence.errors import WriteRejected
from server.persistence.models import (
    DecisionRow,
    GroupRoomRow,
    GroupRow,
    RoomRow,
    SceneMoodRow,
)
from server.persistence.records import utc_now
from server.persistence.store import WallClock


@dataclass(frozen=True, slots=True)
class GroupRecord:
    id: str
    name: str
    created_at: datetime
    rooms: int = 0


@dataclass(frozen=True, slots=True)
class RoomMood:
    scene: str
    valence: float
    arousal: float
    engagement: float
    viewers: int
    at: float


@dataclass(frozen=True, slots=True)
class RoomDecision:
    choice: str
    goto: str
    voted: int
    present: int
    at: float


@dataclass(frozen=True, slots=True)
class GroupScreening:
    """One room of one group, as far as the database knows it (room-level only)."""

    group_id: str
    room_code: str
    story_id: int
    status: str  # waiting | playing | ended
    created_at: datetime
    moods: tuple[RoomMood, ...]
    decisions: tuple[RoomDecision, ...]


class Groups:
    def __init__(self, engine: AsyncEngine, *, wall_clock: WallClock = utc_now) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._now = wall_clock

    async def create(self, group_id: str, name: str) -> GroupRecord:
        """Raises:
        WriteRejected: the id is taken.
        """
        now = self._now()
        async with self._write("create_group") as session:
            session.add(GroupRow(id=group_id, name=name, created_at=now))
        return GroupRecord(group_id, name, now)

    async def get(self, group_id: str) -> GroupRecord | None:
        async with self._sessions() as session:
            row = await session.get(GroupRow, group_id)
            if row is None:
                return None
            rooms = await session.scalar(
                select(func.count()).where(GroupRoomRow.group_id == group_id)
            )
            return GroupRecord(row.id, row.name, row.created_at, int(rooms or 0))

    async def add_room(self, group_id: str, room_code: str) -> None:
        """Raises:
        WriteRejected: no such group or room, or the room belongs to a group already.
        """
        async with self._write("add_group_room") as session:
            session.add(GroupRoomRow(room_code=room_code, group_id=group_id, added_at=self._now()))

    async def group_of(self, room_code: str) -> str | None:
        async with self._sessions() as session:
            row = await session.get(GroupRoomRow, room_code)
            return None if row is None else row.group_id

    async def history(self) -> list[GroupScreening]:
        """Every group's rooms, oldest first, with their decisions and moods."""
        async with self._sessions() as session:
            rooms = (
                await session.execute(
                    select(
                        GroupRoomRow.group_id, RoomRow.code, RoomRow.story_id, RoomRow.status,
                        RoomRow.created_at,
                    )
                    .join(RoomRow, RoomRow.code == GroupRoomRow.room_code)
                    .order_by(RoomRow.created_at, RoomRow.code)
                )
            ).all()  # fmt: skip
            codes = [r.code for r in rooms]
            moods: dict[str, list[RoomMood]] = {c: [] for c in codes}
            decisions: dict[str, list[RoomDecision]] = {c: [] for c in codes}
            if codes:
                for m in await session.scalars(
                    select(SceneMoodRow)
                    .where(SceneMoodRow.room_code.in_(codes))
                    .order_by(SceneMoodRow.id)
                ):
                    moods[m.room_code].append(
                        RoomMood(m.scene, m.valence, m.arousal, m.engagement, m.viewers, m.at)
                    )
                for d in await session.execute(
                    select(
                        DecisionRow.room_code, DecisionRow.choice, DecisionRow.goto,
                        DecisionRow.voted, DecisionRow.present, DecisionRow.at,
                    )
                    .where(DecisionRow.room_code.in_(codes))
                    .order_by(DecisionRow.seq, DecisionRow.id)
                ):  # fmt: skip
                    decisions[d.room_code].append(
                        RoomDecision(d.choice, d.goto, d.voted, d.present, d.at)
                    )
        return [
            GroupScreening(
                r.group_id,
                r.code,
                r.story_id,
                r.status,
                r.created_at,
                tuple(moods[r.code]),
                tuple(decisions[r.code]),
            )
            for r in rooms
        ]

    @asynccontextmanager
    async def _write(self, operation: str) -> AsyncIterator[AsyncSession]:
        try:
            async with self._sessions.begin() as session:
                yield session
        except IntegrityError as exc:
            raise WriteRejected(operation, str(exc.orig)) from exc


__all__ = ["GroupRecord", "GroupScreening", "Groups", "RoomDecision", "RoomMood"]
