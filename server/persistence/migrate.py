"""Run the Alembic migrations in ``server/migrations`` from code.

The migrations are found through the ``server.migrations`` package, never the working
directory, so this works from any directory and from an installed wheel. The URL never
comes from ``alembic.ini``: the caller's engine (built from settings) is handed to
``env.py`` through ``Config.attributes``, the connection-sharing recipe of Alembic's
cookbook.

Alembic runs only when a database needs migrating. A server restarting on a database
already at `HEAD_REVISION` reads its ``alembic_version`` row and goes on. An empty
database is created at the head from the models (``create_all``) and stamped with
`HEAD_REVISION`, which is what Alembic's cookbook recommends for a new database
("Building an Up to Date Database from Scratch"): running every migration in turn took
a first start 0.2 s more (`bench/startup.py`). Tests check that `HEAD_REVISION` is the
head of ``server/migrations/versions`` and that both ways build the same schema, on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from server.persistence.engine import SQLITE_BEGIN_OPTION
from server.persistence.models import Base

if TYPE_CHECKING:
    from alembic.config import Config

HEAD = "head"
HEAD_REVISION = "d5f8a3c61e27"  # the newest file in server/migrations/versions (a test checks)
MIGRATION_LOCK = int.from_bytes(b"kinoroom", "big") >> 1  # any fixed bigint
# Alembic's own version table, as `alembic stamp` creates it.
VERSION_TABLE = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


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
    without importing Alembic, and an empty one is created at the head (`_create_at_head`).

    Args:
        revision: ``head``, or a revision id: an id always runs the migrations.
    """
    if revision == HEAD and await current_revision(engine) == HEAD_REVISION:
        return
    async with engine.connect() as connection:
        await connection.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        async with connection.begin():
            await connection.run_sync(_upgrade, revision)


def _upgrade(connection: Connection, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        # Held until the transaction ends; the key is fixed for the Kinoroom schema.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    if revision == HEAD and _empty(connection):
        _create_at_head(connection)
        return
    from alembic import command

    command.upgrade(alembic_config(connection), revision)


def _empty(connection: Connection) -> bool:
    """No table but an ``alembic_version`` without a row (what a downgrade to base leaves)."""
    tables = set(inspect(connection).get_table_names()) - {VERSION_TABLE.name}
    return not tables and _current(connection) is None


def _create_at_head(connection: Connection) -> None:
    """Create the models' tables on an empty database and stamp it `HEAD_REVISION`."""
    Base.metadata.create_all(connection)
    VERSION_TABLE.create(connection, checkfirst=True)
    connection.execute(VERSION_TABLE.insert().values(version_num=HEAD_REVISION))


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    async with engine.connect() as connection:
        return await connection.run_sync(_current)


def _current(connection: Connection) -> str | None:
    if not inspect(connection).has_table(VERSION_TABLE.name):
        return None
    rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    if len(rows) > 1:
        raise RuntimeError(f"alembic_version holds {len(rows)} revisions: branches are not used")
    return str(rows[0][0]) if rows else None
