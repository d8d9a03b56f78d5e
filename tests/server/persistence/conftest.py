"""A fresh, migrated database per test: an SQLite file, and a PostgreSQL schema of its own.

PostgreSQL runs here and in CI (127.0.0.1:5432, database ``test``, trust auth); its tests
run, they do not skip. ``KINOROOM_TEST_POSTGRES_URL`` points them elsewhere.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from server.persistence import RoomRecord, Store, StoryRecord, make_engine

POSTGRES_URL = os.environ.get(
    "KINOROOM_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


@dataclass(frozen=True)
class Database:
    url: str
    search_path: str | None = None

    @property
    def backend(self) -> str:
        return "sqlite" if self.url.startswith("sqlite") else "postgresql"

    def engine(self) -> AsyncEngine:
        return make_engine(self.url, search_path=self.search_path)

    async def open(self, **kwargs) -> Store:
        return await Store.open(self.url, search_path=self.search_path, **kwargs)


@pytest_asyncio.fixture(params=["sqlite", "postgresql"])
async def database(request, tmp_path) -> AsyncIterator[Database]:
    """An empty database: nothing migrated yet."""
    if request.param == "sqlite":
        # A directory that does not exist yet: the engine creates it.
        yield Database(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'kinoroom.db'}")
        return
    schema = f"kr_{uuid.uuid4().hex}"
    admin = create_async_engine(POSTGRES_URL, poolclass=NullPool)
    try:
        async with admin.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield Database(POSTGRES_URL, search_path=schema)
    finally:
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()


@pytest_asyncio.fixture
async def store(database) -> AsyncIterator[Store]:
    opened = await database.open()
    try:
        yield opened
    finally:
        await opened.close()


DIGEST = "0123456789abcdef"


@pytest_asyncio.fixture
async def story(store) -> StoryRecord:
    return await store.save_story(
        title="The Hall", digest=DIGEST, source="kinoroom: 1\ntitle: The Hall\n", fmt="yaml"
    )


@pytest.fixture
def new_room(story) -> Callable[..., RoomRecord]:
    """Build a room record of the saved story: ``new_room("ABCDEF", status="playing")``."""

    def build(code: str = "ABCDEF", **changes) -> RoomRecord:
        fields = {
            "code": code,
            "story_id": story.id,
            "policy": {"name": "majority"},
            "mode": "phones-play",
            "seed": 7,
            "status": "waiting",
            "epoch": 1_790_000_000.25,
            "show_tally": False,
        }
        return RoomRecord(**{**fields, **changes})

    return build


@pytest_asyncio.fixture
async def rooms(store, new_room) -> tuple[str, str]:
    """Two rooms of the saved story, waiting."""
    for code in ("AAAAAA", "BBBBBB"):
        await store.create_room(new_room(code))
    return ("AAAAAA", "BBBBBB")
