"""Persistence of rooms: SQLAlchemy 2 models, Alembic migrations, and the `Store` the Room
actors call (SQLite through aiosqlite by default, PostgreSQL through asyncpg).

Callers see frozen records (`records.py`), never ORM rows or sessions. Owns the database
schema; must not import the room actors, routes or the app (they import it), nor the
narrative core (records hold its JSON, not its types).
"""

from server.persistence.engine import make_engine
from server.persistence.errors import PersistenceError, RoomExists, StaleOwner, WriteRejected
from server.persistence.migrate import alembic_config, current_revision, migrations_dir, upgrade
from server.persistence.records import (
    ArmIncrement,
    AssetRecord,
    Batch,
    BatchPart,
    DecisionRecord,
    EventRecord,
    Fence,
    JsonObject,
    MoodRecord,
    RoomMode,
    RoomRecord,
    RoomState,
    RoomStatus,
    SeatRecord,
    SeatRole,
    SnapshotRecord,
    StoryFormat,
    StoryRecord,
)
from server.persistence.store import Store, WallClock

__all__ = [
    "ArmIncrement",
    "AssetRecord",
    "Batch",
    "BatchPart",
    "DecisionRecord",
    "EventRecord",
    "Fence",
    "JsonObject",
    "MoodRecord",
    "PersistenceError",
    "RoomExists",
    "RoomMode",
    "RoomRecord",
    "RoomState",
    "RoomStatus",
    "SeatRecord",
    "SeatRole",
    "SnapshotRecord",
    "StaleOwner",
    "Store",
    "StoryFormat",
    "StoryRecord",
    "WallClock",
    "WriteRejected",
    "alembic_config",
    "current_revision",
    "make_engine",
    "migrations_dir",
    "upgrade",
]
