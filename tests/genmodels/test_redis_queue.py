"""The Redis job queue on the real Redis, with workers as tasks of the test's loop."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import pytest

from genmodels.backend import WorkerConfig
from genmodels.backends import BackendRegistry
from genmodels.redis_queue import RedisQueue
from genmodels.redis_streams import encode_job
from genmodels.redis_worker import RedisWorker
from tests.genmodels.queue_backends import CrashBackend, FailBackend, SleepBackend
from tests.genmodels.queue_support import (
    REDIS_URL,
    TIMEOUT,
    Inbox,
    make_job,
    pending_count,
    results_published,
)
from tests.timing import within


@pytest.fixture
def config(tmp_path):
    return WorkerConfig(media_dir=tmp_path)


@contextlib.asynccontextmanager
async def running(worker: RedisWorker) -> AsyncIterator[RedisWorker]:
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        worker.stop()
        async with asyncio.timeout(TIMEOUT):
            await task


def worker(config, keys, backend, **options) -> RedisWorker:
    registry = BackendRegistry(config, instances={"montage": backend})
    options = {"claim_idle_s": 1.0, **options}
    return RedisWorker(REDIS_URL, registry, config, prefix=keys.prefix, **options)


@pytest.mark.asyncio
async def test_a_worker_runs_the_job_and_the_room_gets_progress_then_done(config, redis, queue):
    client, keys = redis
    backend = SleepBackend(config)
    inbox, other = Inbox(queue, "ROOM1"), Inbox(queue, "ROOM2")
    job = make_job("ROOM1", "sleep 0.1")
    async with running(worker(config, keys, backend)) as taker:
        await queue.submit(job)
        progress = await inbox.progress()
        result = await inbox.result()
    assert progress.job == job.id
    assert (result.job, result.status, result.media) == (job.id, "done", f"generated/{job.id}")
    assert result.provenance is not None
    assert result.provenance.worker == taker.worker_id
    assert other.updates.empty()
    assert await pending_count(client, keys) == 0  # acknowledged
    assert await client.xlen(keys.jobs("montage")) == 0  # and deleted
    assert await client.xlen(keys.dead) == 0


@pytest.mark.asyncio
async def test_jobs_submitted_before_any_worker_wait_for_one(config, redis, queue):
    _client, keys = redis
    inbox = Inbox(queue, "ROOM1")
    jobs = [make_job() for _ in range(3)]
    for job in jobs:
        await queue.submit(job)
    async with running(worker(config, keys, SleepBackend(config), concurrency=2)):
        results = [await inbox.result() for _ in jobs]
    assert sorted(r.job for r in results) == sorted(j.id for j in jobs)
    assert {r.status for r in results} == {"done"}


@pytest.mark.asyncio
async def test_definite_failures_are_acknowledged_not_retried(config, redis, queue):
    client, keys = redis
    backend = FailBackend(config)
    inbox = Inbox(queue, "ROOM1")
    async with running(worker(config, keys, backend)):
        await queue.submit(make_job(in_s=-1.0))
        late = await inbox.result()
        await queue.submit(make_job())
        failed = await inbox.result()
    assert (late.status, late.code) == ("late", "deadline-passed")
    assert (failed.status, failed.code) == ("failed", "test-broken")
    assert backend.runs == 1
    assert await pending_count(client, keys) == 0


@pytest.mark.asyncio
async def test_a_live_slow_worker_keeps_its_job(config, redis, queue):
    client, keys = redis
    slow, idle = SleepBackend(config), SleepBackend(config)
    inbox = Inbox(queue, "ROOM1")
    job = make_job(prompt="sleep 1.5")  # five times the claim's idle time
    async with running(worker(config, keys, slow, claim_idle_s=0.3)) as first:
        await queue.submit(job)
        await inbox.progress()  # the first worker has it
        async with running(worker(config, keys, idle, claim_idle_s=0.3)):
            result = await inbox.result()
    assert result.status == "done"
    assert result.provenance is not None
    assert result.provenance.worker == first.worker_id
    assert (slow.runs, idle.runs) == (1, 0)
    assert len(await results_published(client, keys, job.id)) == 1


@pytest.mark.asyncio
async def test_a_crashing_backend_is_retried_then_dead_lettered(config, redis, queue):
    client, keys = redis
    crash = CrashBackend(config)
    inbox = Inbox(queue, "ROOM1")
    job = make_job()
    async with running(worker(config, keys, crash, claim_idle_s=0.2, max_deliveries=3)):
        await queue.submit(job)
        result = await inbox.result()
    assert (result.job, result.status, result.code) == (job.id, "failed", "dead-letter")
    assert "RuntimeError: backend bug" in (result.message or "")
    assert crash.runs == 3  # max_deliveries tries, then no more
    ((_id, dead),) = await client.xrange(keys.dead)
    assert json.loads(dead["job"])["id"] == job.id
    assert dead["deliveries"] == "4"
    assert "delivered 4 times (max 3)" in dead["reason"]
    assert await pending_count(client, keys) == 0
    assert await client.hlen(keys.errors) == 0


@pytest.mark.asyncio
async def test_an_entry_that_is_no_job_goes_to_the_dead_letter(config, redis, queue):
    client, keys = redis
    good = make_job()
    inbox = Inbox(queue, "ROOM1")
    await client.xadd(keys.jobs("montage"), {"job": "{not json"})
    await client.xadd(keys.jobs("montage"), encode_job(good))
    async with running(worker(config, keys, SleepBackend(config))):
        result = await inbox.result()
    assert (result.job, result.status) == (good.id, "done")
    ((_id, dead),) = await client.xrange(keys.dead)
    assert dead["reason"].startswith("bad-job")
    assert await pending_count(client, keys) == 0


@pytest.mark.asyncio
async def test_a_second_result_for_a_job_never_reaches_the_room(config, redis, queue):
    client, keys = redis
    inbox = Inbox(queue, "ROOM1")
    job = make_job()
    async with running(worker(config, keys, SleepBackend(config))):
        await queue.submit(job)
        first = await inbox.result()
    # A worker presumed dead that publishes anyway (not ours: ours check ownership first).
    duplicate = first.model_copy(update={"media": "generated/other"})
    await client.xadd(keys.updates, {"room": "ROOM1", "update": duplicate.model_dump_json()})
    await queue.submit(follow := make_job())
    async with running(worker(config, keys, SleepBackend(config))):
        second = await inbox.result()
    assert second.job == follow.id  # the duplicate was skipped


@pytest.mark.asyncio
async def test_a_worker_outlives_redis_losing_its_streams(config, redis, queue):
    client, keys = redis
    inbox = Inbox(queue, "ROOM1")
    async with running(worker(config, keys, SleepBackend(config))):
        await queue.submit(make_job())
        await inbox.result()
        await client.delete(keys.jobs("montage"))  # a Redis restarted without its data
        await queue.submit(job := make_job())  # XADD makes the stream, not the group
        result = await inbox.result()
    assert (result.job, result.status) == (job.id, "done")


@pytest.mark.asyncio
async def test_close_ends_a_reader_whose_cancel_came_back_as_a_connection_error(queue):
    # Seen on a busy machine: a node's shutdown and a test's teardown waited forever in
    # `close`, the reader retrying "redis unreachable" after it was cancelled. Whatever
    # the client turns the cancel into, a closing queue's reader ends.
    from redis.exceptions import ConnectionError as RedisConnectionError

    reading = asyncio.Event()

    async def xread(*args: object, **kwargs: object) -> object:
        reading.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            raise RedisConnectionError("Connection closed by server.") from None
        return None

    queue._redis.xread = xread  # the reader's next read blocks in this one
    async with asyncio.timeout(within(10)):
        await reading.wait()
        await queue.close()


@pytest.mark.asyncio
async def test_a_job_asked_for_again_by_another_process_runs_once_and_reaches_it(
    config, redis, queue
):
    """A room's new owner (another server process) asks again for the job its last owner
    submitted, under the same id: the job is not added twice, and its result reaches the
    new owner's room, whether it came before or after the new owner subscribed."""
    client, keys = redis
    job = make_job("ROOM1", "sleep 0.1")
    await queue.submit(job)  # the owner that is about to die
    taker = RedisQueue(REDIS_URL, prefix=keys.prefix, block_ms=100)
    await taker.start()
    try:
        await taker.submit(job)  # the next owner adopts it
        assert await client.xlen(keys.jobs("montage")) == 1
        backend = SleepBackend(config)
        async with running(worker(config, keys, backend)):
            async with asyncio.timeout(TIMEOUT):
                while not await results_published(client, keys, job.id):
                    await asyncio.sleep(0.05)
        inbox = Inbox(taker, "ROOM1")  # the new owner's room subscribes
        result = await inbox.result()
    finally:
        await taker.close()
    assert (result.job, result.status) == (job.id, "done")
    assert backend.runs == 1
