"""Alembic's entry point: migrate the connection the server hands over, or a URL.

`server.persistence.migrate.upgrade` opens a connection on the server's own engine and
passes it in ``config.attributes["connection"]`` (Alembic cookbook, "Programmatic API use
(connection sharing) With Asyncio"). From the command line the URL comes from
``alembic -x url=…`` or ``KINOROOM_DATABASE_URL``; never from alembic.ini, so the one
place a database is configured stays the server's settings.
"""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig
from typing import Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

from server.persistence.engine import make_engine
from server.persistence.models import Base, UtcDateTime

config = context.config
target_metadata = Base.metadata

# Only the command line configures logging from alembic.ini; inside the server, the
# server's logging stays as it is.
if config.config_file_name is not None and "connection" not in config.attributes:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get(
        "KINOROOM_DATABASE_URL"
    )
    if not url:
        raise SystemExit("no database: pass `alembic -x url=…` or set KINOROOM_DATABASE_URL")
    return url


def _render_item(kind: str, item: object, autogen_context: AutogenContext) -> str | Literal[False]:
    # Revisions must not import app code: they render our column types as plain SQLAlchemy.
    if kind == "type" and isinstance(item, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=target_metadata,
        render_item=_render_item,
        # SQLite cannot ALTER most things in place: batch mode copies the table instead.
        render_as_batch=True,
        compare_type=True,
        **kwargs,  # type: ignore[arg-type]
    )


def run_migrations_offline() -> None:
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = make_engine(_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        asyncio.run(run_async_migrations())
    else:
        do_run_migrations(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
