"""Build the async engine for a database URL: SQLite (aiosqlite) or PostgreSQL (asyncpg).

SQLite is the embedded default: one file, one machine. Its connection settings are
what makes "an acked vote is never lost" true there (see `_sqlite_pragmas`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

# How long a writer waits for another connection's write lock before SQLite says "busy".
SQLITE_BUSY_TIMEOUT_MS = 5_000
# Execution option: ``connection.execution_options(kinoroom_sqlite_begin="IMMEDIATE")``.
SQLITE_BEGIN_OPTION = "kinoroom_sqlite_begin"


def make_engine(url: str | URL, *, search_path: str | None = None) -> AsyncEngine:
    """Build an engine; nothing connects until it is first used.

    Args:
        url: ``sqlite+aiosqlite:///path/to/file.db`` or ``postgresql+asyncpg://…``.
            The directory of an SQLite file is created if it is missing.
        search_path: PostgreSQL only: the schema(s) every connection uses (tests isolate
            themselves in a schema of their own).

    Raises:
        ValueError: an unsupported database, or ``search_path`` for SQLite.
    """
    url = make_url(url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        if search_path is not None:
            raise ValueError("search_path is a PostgreSQL setting; SQLite has no schemas")
        return _sqlite_engine(url)
    if backend == "postgresql":
        return _postgresql_engine(url, search_path)
    raise ValueError(f"unsupported database {backend!r}: use SQLite or PostgreSQL")


def _sqlite_engine(url: URL) -> AsyncEngine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url)
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    # WAL lets readers run beside the one writer. With WAL, synchronous=NORMAL makes a
    # commit durable against a killed process (SIGKILL, a crash): the WAL frames are in
    # the OS page cache once COMMIT returns, and the OS writes them out. Only a power
    # loss or kernel crash can take the last commits back; FULL (an fsync per commit)
    # would guard against that too, at a cost the group commit would feel. One machine,
    # one process dying at any moment is what restart recovery promises to survive.
    # The driver's own transaction handling starts a transaction only before DML, so a
    # migration's DDL would commit piecemeal; we say BEGIN ourselves (`_sqlite_begin`), as
    # SQLAlchemy's SQLite documentation recommends.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # busy_timeout first: switching a fresh file to WAL takes a lock, and several
        # processes opening it at once must wait for each other, not fail.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        _switch_to_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    """``PRAGMA journal_mode=WAL``, retried while another connection switches the same
    fresh file: SQLite answers that race "database is locked" at once, without waiting
    for its busy handler. Once the file is in WAL mode the pragma takes no lock."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as exc:  # the driver's OperationalError, adapted by SQLAlchemy
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)  # only while a fresh database is being created


def _sqlite_begin(connection: Connection) -> None:
    # A connection may ask for BEGIN IMMEDIATE (take the write lock now, waiting up to
    # busy_timeout): a transaction that reads before it writes, like a migration, could
    # otherwise fail at once when another process wrote in between.
    mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "")
    connection.exec_driver_sql(f"BEGIN {mode}".rstrip())


def _postgresql_engine(url: URL, search_path: str | None) -> AsyncEngine:
    server_settings = {"application_name": "kinoroom"}
    if search_path is not None:
        server_settings["search_path"] = search_path
    return create_async_engine(
        url,
        # One server process serves many rooms through one group-commit writer plus
        # short reads; a handful of connections is enough and leaves room for other
        # processes on the same database.
        pool_size=5,
        max_overflow=10,
        pool_timeout=10,
        pool_pre_ping=True,  # a restarted database must not fail the first commit after it
        pool_recycle=1800,
        connect_args={"server_settings": server_settings, "timeout": 10},
    )
