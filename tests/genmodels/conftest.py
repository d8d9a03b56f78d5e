"""Fixtures the Redis queue tests share: a fresh key prefix on the real Redis, and a
server-side queue on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from redis.asyncio import Redis

from genmodels.redis_queue import RedisQueue
from genmodels.redis_streams import StreamKeys
from tests.genmodels.queue_support import REDIS_URL, redis_prefix


@pytest_asyncio.fixture
async def redis() -> AsyncIterator[tuple[Redis, StreamKeys]]:
    async with redis_prefix() as (client, keys):
        yield client, keys


@pytest_asyncio.fixture
async def queue(redis: tuple[Redis, StreamKeys]) -> AsyncIterator[RedisQueue]:
    _client, keys = redis
    queue = RedisQueue(REDIS_URL, prefix=keys.prefix, block_ms=100)
    await queue.start()
    try:
        yield queue
    finally:
        await queue.close()
