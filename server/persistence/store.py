"""The store: what Room actors call to persist a room and recover it after a restart.

Every method is its own transaction. `Store.commit` is the group-commit hot path: the
room actors collect what they produced for a few milliseconds, then one `Batch` (any
number of rooms) is written in one transaction with executemany inserts, and only then
are the votes in it acked (DESIGN.md, "A vote is acked only after it is committed").

Callers get frozen records (`records.py`), never ORM rows, so nothing they hold is tied
to a session.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TypeVar, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.persistence.engine import make_engine
from server.persistence.errors import RoomExists, StaleOwner, WriteRejected
from server.persistence.migrate import upgrade
from server.persistence.models import (
    ArmStatRow,
    Base,
    DecisionRow,
    EventRow,
    GeneratedAssetRow,
    RoomRow,
    SceneMoodRow,
    SeatRow,
    SnapshotRow,
    StoryRow,
)
from server.persistence.records import (
    ArmIncrement,
    AssetRecord,
    Batch,
    DecisionRecord,
    EventRecord,
    Fence,
    MoodRecord,
    RoomMode,
    RoomRecord,
    RoomState,
    SeatRecord,
    SeatRole,
    SnapshotRecord,
    StoryFormat,
    StoryRecord,
    utc_now,
)

WallClock = Callable[[], datetime]
_Row = TypeVar("_Row", bound=Base)


class Store:
    """Persistence for rooms, their event logs and what screenings learned.

    Build one with ``await Store.open(url)``; ``await store.close()`` when done (or use
    ``async with``).
    """

    def __init__(self, engine: AsyncEngine, *, wall_clock: WallClock = utc_now) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._now = wall_clock
        # Only the engine's own dialect is imported: PostgreSQL's costs start-up ~25 ms.
        if engine.dialect.name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as upsert
        else:
            from sqlalchemy.dialects.postgresql import insert as upsert  # type: ignore[assignment]
        self._upsert = upsert

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        migrate: bool = True,
        search_path: str | None = None,
        wall_clock: WallClock = utc_now,
    ) -> Store:
        """Connect to ``url`` and, when ``migrate``, upgrade its schema to the newest revision.

        Args:
            url: an SQLite (``sqlite+aiosqlite:///file``) or PostgreSQL
                (``postgresql+asyncpg://…``) URL.
            migrate: run the Alembic migrations first (the server does on start).
            search_path: PostgreSQL only: the schema to use.
            wall_clock: gives the UTC time stamped on written rows (audit only).
        """
        engine = make_engine(url, search_path=search_path)
        try:
            if migrate:
                await upgrade(engine)
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine, wall_clock=wall_clock)

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def close(self) -> None:
        await self._engine.dispose()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- stories ------------------------------------------------------------------------

    async def save_story(self, *, title: str, digest: str, source: str, fmt: str) -> StoryRecord:
        """Store a story once per digest; a second save of the same digest returns the first.

        Raises:
            WriteRejected: ``fmt`` is neither ``yaml`` nor ``json``.
        """
        async with self._write("save_story") as session:
            stories = _table(StoryRow)
            insert = self._upsert(stories).values(
                digest=digest, title=title, source=source, fmt=fmt, created_at=self._now()
            )
            await session.execute(insert.on_conflict_do_nothing(index_elements=["digest"]))
            row = await session.scalar(select(StoryRow).where(StoryRow.digest == digest))
            assert row is not None  # inserted or already there, in this transaction
            return _story(row)

    async def story(self, story_id: int) -> StoryRecord | None:
        async with self._sessions() as session:
            row = await session.get(StoryRow, story_id)
            return None if row is None else _story(row)

    async def stories(self) -> list[StoryRecord]:
        async with self._sessions() as session:
            return [
                _story(row) for row in await session.scalars(select(StoryRow).order_by(StoryRow.id))
            ]

    # -- rooms and seats ----------------------------------------------------------------

    async def create_room(self, room: RoomRecord) -> None:
        """Raises:
        RoomExists: the code is taken (pick another code and try again).
        WriteRejected: the story does not exist, or a field is out of its range.
        """
        async with self._write("create_room", room.code) as session:
            insert = self._upsert(_table(RoomRow)).values(**dataclasses.asdict(room))
            inserted = await session.scalar(
                insert.on_conflict_do_nothing(index_elements=["code"]).returning(RoomRow.code)
            )
            if inserted is None:
                raise RoomExists(room.code)

    async def room(self, code: str) -> RoomRecord | None:
        async with self._sessions() as session:
            row = await session.get(RoomRow, code)
            return None if row is None else _room(row)

    async def unfinished_rooms(self) -> list[RoomRecord]:
        """The rooms to restore after a restart: every room whose status is not ``ended``."""
        query = select(RoomRow).where(RoomRow.status != "ended")
        async with self._sessions() as session:
            rows = await session.scalars(query.order_by(RoomRow.created_at, RoomRow.code))
            return [_room(row) for row in rows]

    async def add_seat(self, seat: SeatRecord) -> None:
        """Raises:
        WriteRejected: the device already has a seat, or the room does not exist.
        """
        async with self._write("add_seat", seat.room_code) as session:
            await session.execute(_table(SeatRow).insert().values(**dataclasses.asdict(seat)))

    async def seat(self, device_id: str) -> SeatRecord | None:
        async with self._sessions() as session:
            row = await session.get(SeatRow, device_id)
            return None if row is None else _seat(row)

    async def seats(self, room_code: str) -> list[SeatRecord]:
        query = select(SeatRow).where(SeatRow.room_code == room_code)
        async with self._sessions() as session:
            rows = await session.scalars(query.order_by(SeatRow.joined_at, SeatRow.device_id))
            return [_seat(row) for row in rows]

    # -- the group commit ---------------------------------------------------------------

    async def commit(self, batch: Batch) -> None:
        """Write everything in ``batch`` in one transaction: all of it or none of it.

        Raises:
            StaleOwner: a fenced room has an owner of a newer epoch; nothing is written.
            WriteRejected: an event or snapshot seq that a room already has, a room that
                does not exist, a story digest never saved; nothing of the batch is written.
        """
        if not batch:
            return
        now = self._now()
        async with self._write("commit") as session:
            for fence in batch.fences:  # first: a stale owner's batch writes nothing
                await self._fence(session, fence)
            if batch.events:
                await session.execute(
                    _table(EventRow).insert(),
                    [{**_fields(e), "recorded_at": now} for e in batch.events],
                )
            if batch.snapshots:
                await session.execute(
                    _table(SnapshotRow).insert(),
                    [{**_fields(s), "taken_at": now} for s in batch.snapshots],
                )
            if batch.decisions:
                await session.execute(
                    _table(DecisionRow).insert(),
                    [
                        {**_fields(d), "tally": [list(pair) for pair in d.tally]}
                        for d in batch.decisions
                    ],
                )
            if batch.moods:
                await session.execute(
                    _table(SceneMoodRow).insert(), [_fields(m) for m in batch.moods]
                )
            for status in batch.statuses:
                ended_at = status.ended_at
                if ended_at is None and status.status == "ended":
                    ended_at = now
                changed = await session.scalar(
                    update(RoomRow)
                    .where(RoomRow.code == status.code)
                    .values(status=status.status, ended_at=ended_at)
                    .returning(RoomRow.code)
                )
                if changed is None:
                    raise WriteRejected("commit", "no such room", room=status.code)
            if batch.arms:
                await self._add_arms(session, batch.arms)
            if batch.assets:  # a job's outcome once: an adopted job's may come twice
                assets = self._upsert(_table(GeneratedAssetRow))
                await session.execute(
                    assets.on_conflict_do_nothing(index_elements=["job_id"]),
                    [_fields(a) for a in batch.assets],
                )

    async def claim(self, code: str, epoch: int) -> RoomRecord:
        """Make ``epoch`` the room's owner epoch: from now on only writes fenced with it (or
        a newer one) commit. Returns the room as its last owner left it (its ``in_offset``
        is where the new owner reads on).

        Raises:
            StaleOwner: the room already has an owner of ``epoch`` or newer.
            WriteRejected: no such room.
        """
        async with self._write("claim", code) as session:
            # One conditional UPDATE, so racing claims serialise on the row (on SQLite, on
            # the write lock) instead of reading first and deadlocking on the upgrade.
            row = await session.scalar(
                update(RoomRow)
                .where(RoomRow.code == code, RoomRow.owner_epoch < epoch)
                .values(owner_epoch=epoch)
                .returning(RoomRow)
            )
            if row is not None:
                return _room(row)
            if await session.get(RoomRow, code) is None:
                raise WriteRejected("claim", "no such room", room=code)
            raise StaleOwner(code, epoch)

    async def _fence(self, session: AsyncSession, fence: Fence) -> None:
        # One conditional UPDATE: the row lock serialises it against a claim, so an owner
        # whose epoch was superseded finds no row to update and the transaction aborts.
        changed = await session.scalar(
            update(RoomRow)
            .where(RoomRow.code == fence.room_code, RoomRow.owner_epoch <= fence.epoch)
            .values(owner_epoch=fence.epoch, in_offset=fence.in_offset)
            .returning(RoomRow.code)
        )
        if changed is None:
            raise StaleOwner(fence.room_code, fence.epoch)

    async def _add_arms(self, session: AsyncSession, arms: Iterable[ArmIncrement]) -> None:
        # One row per key (PostgreSQL refuses to upsert a row twice in one statement) and
        # in key order, so two processes committing at once lock rows in the same order.
        totals: dict[tuple[str, str, str], tuple[int, float]] = {}
        for arm in arms:
            key = (arm.story_digest, arm.choice, arm.option)
            plays, reward = totals.get(key, (0, 0.0))
            totals[key] = (plays + arm.plays, reward + arm.reward)
        table = _table(ArmStatRow)
        insert = self._upsert(table)
        upsert = insert.on_conflict_do_update(
            index_elements=["story_digest", "choice", "option"],
            set_={
                "plays": table.c.plays + insert.excluded.plays,
                "reward": table.c.reward + insert.excluded.reward,
            },
        )
        await session.execute(
            upsert,
            [
                {"story_digest": d, "choice": c, "option": o, "plays": p, "reward": r}
                for (d, c, o), (p, r) in sorted(totals.items())
            ],
        )

    # -- reading a room back ------------------------------------------------------------

    async def events_after(self, room_code: str, seq: int) -> list[EventRecord]:
        """The room's events with a seq above ``seq``, in seq order (replay after a snapshot)."""
        query = select(EventRow).where(EventRow.room_code == room_code, EventRow.seq > seq)
        async with self._sessions() as session:
            rows = await session.scalars(query.order_by(EventRow.seq))
            return [EventRecord(r.room_code, r.seq, r.kind, r.payload, r.at) for r in rows]

    async def last_seq(self, room_code: str) -> int:
        """The room's highest event seq; 0 when it has none."""
        query = select(func.coalesce(func.max(EventRow.seq), 0)).where(
            EventRow.room_code == room_code
        )
        async with self._sessions() as session:
            return int(await session.scalar(query) or 0)

    async def latest_snapshot(self, room_code: str) -> SnapshotRecord | None:
        query = select(SnapshotRow).where(SnapshotRow.room_code == room_code)
        async with self._sessions() as session:
            row = await session.scalar(query.order_by(SnapshotRow.seq.desc()).limit(1))
            return None if row is None else SnapshotRecord(row.room_code, row.seq, row.data)

    async def decisions(self, room_code: str) -> list[DecisionRecord]:
        query = select(DecisionRow).where(DecisionRow.room_code == room_code)
        async with self._sessions() as session:
            rows = await session.scalars(query.order_by(DecisionRow.seq, DecisionRow.id))
            return [_decision(row) for row in rows]

    async def scene_moods(self, room_code: str) -> list[MoodRecord]:
        query = select(SceneMoodRow).where(SceneMoodRow.room_code == room_code)
        async with self._sessions() as session:
            rows = await session.scalars(query.order_by(SceneMoodRow.id))
            return [_mood(row) for row in rows]

    async def generated_assets(self, room_code: str) -> list[AssetRecord]:
        """The room's fill-in jobs' outcomes and provenance, in the order they came back."""
        query = select(GeneratedAssetRow).where(GeneratedAssetRow.room_code == room_code)
        async with self._sessions() as session:
            rows = await session.scalars(query.order_by(GeneratedAssetRow.id))
            names = [f.name for f in dataclasses.fields(AssetRecord)]
            return [AssetRecord(**{name: getattr(row, name) for name in names}) for row in rows]

    async def arm_history(self, story_digest: str) -> dict[str, dict[str, tuple[int, float]]]:
        """What the explore policy learned of the story: choice -> option -> (plays, reward)."""
        query = select(ArmStatRow).where(ArmStatRow.story_digest == story_digest)
        history: dict[str, dict[str, tuple[int, float]]] = {}
        async with self._sessions() as session:
            for row in await session.scalars(query.order_by(ArmStatRow.choice, ArmStatRow.option)):
                history.setdefault(row.choice, {})[row.option] = (row.plays, row.reward)
        return history

    @asynccontextmanager
    async def _write(self, operation: str, room: str | None = None) -> AsyncIterator[AsyncSession]:
        try:
            async with self._sessions.begin() as session:
                yield session
        except IntegrityError as exc:
            raise WriteRejected(operation, str(exc.orig), room=room) from exc


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def _fields(
    record: EventRecord | SnapshotRecord | DecisionRecord | MoodRecord | AssetRecord,
) -> dict[str, object]:
    # Shallow on purpose: `dataclasses.asdict` deep-copies every payload, measurable on
    # the group-commit path of a 10,000-phone vote.
    return {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}


def _story(row: StoryRow) -> StoryRecord:
    return StoryRecord(
        row.id, row.digest, row.title, row.source, cast(StoryFormat, row.fmt), row.created_at
    )


def _room(row: RoomRow) -> RoomRecord:
    return RoomRecord(
        code=row.code,
        story_id=row.story_id,
        policy=row.policy,
        mode=cast(RoomMode, row.mode),
        seed=row.seed,
        status=cast(RoomState, row.status),
        epoch=row.epoch,
        show_tally=row.show_tally,
        vote_grace_s=row.vote_grace_s,
        owner_epoch=row.owner_epoch,
        in_offset=row.in_offset,
        created_at=row.created_at,
        ended_at=row.ended_at,
    )


def _seat(row: SeatRow) -> SeatRecord:
    return SeatRecord(
        row.device_id, row.room_code, row.nickname, cast(SeatRole, row.role), row.weight,
        row.joined_at,
    )  # fmt: skip


def _mood(row: SceneMoodRow) -> MoodRecord:
    return MoodRecord(
        row.room_code, row.scene, row.valence, row.arousal, row.engagement, row.viewers,
        row.samples, row.at,
    )  # fmt: skip


def _decision(row: DecisionRow) -> DecisionRecord:
    tally = tuple((str(option), cast(float, weight)) for option, weight in row.tally)
    return DecisionRecord(
        row.room_code, row.seq, row.choice, row.option, row.goto, row.policy, row.reason,
        tally, row.voted, row.present, row.at,
    )  # fmt: skip
