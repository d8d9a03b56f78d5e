"""The Alembic migrations build the schema the models describe, from any directory."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

import server
from server.persistence import alembic_config, current_revision, migrations_dir, upgrade
from server.persistence.migrate import HEAD_REVISION
from server.persistence.models import Base

ROOT = Path(__file__).resolve().parents[3]
TABLES = {
    "alembic_version", "arm_stats", "decisions", "drafts", "events", "generated_assets",
    "group_rooms", "groups", "rooms", "scene_moods", "seats", "snapshots", "stories",
}  # fmt: skip


def head() -> str:
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None
    return revision


@pytest.mark.asyncio
async def test_an_empty_database_is_upgraded_to_head_from_any_directory(
    database, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # the migrations are found through the package, not the CWD
    engine = database.engine()
    try:
        assert await current_revision(engine) is None
        await upgrade(engine)
        await upgrade(engine)  # a second start finds nothing to do
        assert await current_revision(engine) == head()
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert tables == TABLES
    finally:
        await engine.dispose()


@pytest.mark.asyncio
async def test_servers_starting_together_on_a_fresh_database_migrate_it_once(database):
    engines = [database.engine() for _ in range(3)]
    try:
        await asyncio.gather(*(upgrade(engine) for engine in engines))
        assert await current_revision(engines[0]) == head()
    finally:
        for engine in engines:
            await engine.dispose()


@pytest.mark.asyncio
async def test_the_migrated_schema_is_what_the_models_describe(database):
    engine = database.engine()
    try:
        await upgrade(engine, HEAD_REVISION)  # a revision id: every migration runs
        async with engine.connect() as connection:
            diff = await connection.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata
                )
            )
        assert diff == []
    finally:
        await engine.dispose()


@pytest.mark.asyncio
async def test_downgrade_to_base_removes_everything_and_upgrade_rebuilds_it(database):
    engine = database.engine()
    try:
        await upgrade(engine)
        async with engine.begin() as connection:
            await connection.run_sync(lambda c: command.downgrade(alembic_config(c), "base"))
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert tables <= {"alembic_version"}
        await upgrade(engine)
        assert await current_revision(engine) == head()
    finally:
        await engine.dispose()


def _schema(connection) -> dict[str, dict[str, object]]:
    """Every table as the database describes it: columns, keys, indexes, constraints."""
    found = inspect(connection)

    def named(items: list[dict], *keys: str) -> list[tuple]:
        return sorted(tuple(str(item.get(key)) for key in keys) for item in items)

    schema: dict[str, dict[str, object]] = {}
    for table in sorted(found.get_table_names()):
        columns = found.get_columns(table)
        schema[table] = {
            "columns": sorted(  # in any order: a migration adds a column at the end
                (c["name"], str(c["type"]), c["nullable"], str(c.get("default"))) for c in columns
            ),
            "primary key": found.get_pk_constraint(table),
            "foreign keys": named(
                found.get_foreign_keys(table),
                "name", "constrained_columns", "referred_table", "referred_columns", "options",
            ),
            "indexes": named(found.get_indexes(table), "name", "column_names", "unique"),
            "unique": named(found.get_unique_constraints(table), "name", "column_names"),
            "checks": sorted(
                (c["name"], " ".join(c["sqltext"].split()))
                for c in found.get_check_constraints(table)
            ),
        }  # fmt: skip
    return schema


@pytest.mark.asyncio
async def test_a_new_database_created_at_head_has_the_schema_the_migrations_build(database):
    # Start-up creates an empty database from the models and stamps it (`migrate`):
    # it must be the very database every migration in turn builds.
    engine = database.engine()
    try:
        await upgrade(engine, HEAD_REVISION)
        async with engine.connect() as connection:
            migrated = await connection.run_sync(_schema)
        async with engine.begin() as connection:
            await connection.run_sync(lambda c: command.downgrade(alembic_config(c), "base"))
        await upgrade(engine)  # empty again: created at the head, without the migrations
        async with engine.connect() as connection:
            created = await connection.run_sync(_schema)
        assert await current_revision(engine) == head()
        assert set(created) == TABLES
        for table in sorted(TABLES):
            assert created[table] == migrated[table], table
    finally:
        await engine.dispose()


def test_the_migrations_ship_inside_the_server_package():
    assert migrations_dir() == Path(server.__file__).parent / "migrations"
    assert (migrations_dir() / "env.py").is_file()


def test_alembic_ini_at_the_repository_root_points_at_the_same_migrations():
    config = Config(str(ROOT / "alembic.ini"))
    assert Path(config.get_main_option("script_location")) == migrations_dir()
    assert ScriptDirectory.from_config(config).get_current_head() == head()
    assert config.get_main_option("sqlalchemy.url") is None  # the URL comes from code


def test_every_revision_file_is_named_rev_underscore_slug():
    for script in ScriptDirectory.from_config(alembic_config()).walk_revisions():
        assert Path(script.path).name.startswith(f"{script.revision}_")


def test_the_start_up_shortcut_knows_the_newest_migration():
    # `upgrade` skips Alembic on a database already at HEAD_REVISION: a new migration
    # must move it, or restarted servers would never run that migration.
    from server.persistence.migrate import HEAD_REVISION

    assert head() == HEAD_REVISION
