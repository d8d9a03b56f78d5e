"""Run the Alembic migrations in ``server/migrations`` from code.

The migrations are found through the ``server.migrations`` package, never the working
directory, so this works from any directory and from an installed wheel. The URL never
comes from ``alembic.ini``: the caller's engine (built from settings) is handed to
``env.py`` through ``Config.attributes``, the connection-sharing recipe of Alembic's
cookbook.

Alembic is imported only when a database needs migrating: a server restarting on a
database already at `HEAD_REVISION` reads its ``alembic_version`` row and goes on, and
start-up does not pay the ~0.2 s of importing Alembic (`bench/startup.py`). A test
checks that `HEAD_REVISION` is the head of ``server/migrations/versions``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from server.persistence.engine import SQLITE_BEGIN_OPTION

if TYPE_CHECKING:
    from alembic.config import Config

HEAD = "head"
HEAD_REVISION = "d5f8a3c61e27"  # the newest file in server/migrations/versions (a test checks)
MIGRATION_LOCK = int.from_bytes(b"kinoroom", "big") >> 1  # any fixed bigint


def migrations_dir() -> Path:
    spec = importlib.util.find_spec("server.migrations")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the server.migrations package is missing from this install")
    return Path(next(iter(spec.submodule_search_locations)))


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for our migrations; ``connection`` is the one env.py migrates."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = HEAD) -> None:
    """Upgrade the engine's database to ``revision`` (default: the newest), in one transaction.

    Several server processes may start at once on a fresh database: the first to take the
    database's write lock (SQLite) or the advisory lock (PostgreSQL) migrates, the others
    then find nothing left to do. A database already at `HEAD_REVISION` is left alone
    without importing Alembic.
    """
    if revision == HEAD and await _recorded_revision(engine) == HEAD_REVISION:
        return
    async with engine.connect() as connection:
        await connection.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        async with connection.begin():
            await connection.run_sync(_upgrade, revision)


async def _recorded_revision(engine: AsyncEngine) -> str | None:
    """The ``alembic_version`` row, read with plain SQL; None when there is none (yet)."""
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT version_num FROM alembic_version"))).all()
    except DBAPIError:  # no such table: a database never migrated
        return None
    return str(rows[0][0]) if len(rows) == 1 else None


def _upgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    if connection.dialect.name == "postgresql":
        # Held until the transaction ends; the key is fixed for the Kinoroom schema.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    command.upgrade(alembic_config(connection), revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    async with engine.connect() as connection:
        return await connection.run_sync(_current)


def _current(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()
