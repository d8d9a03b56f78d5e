"""A fill-in job in flight when its room's owner is killed: the node that takes the room
over adopts the job (same id, not run again) and plays its clip at the boundary.

Real nodes, their Redis and PostgreSQL (`conftest.py`); the worker is a `RedisWorker` in
this process, whose backend holds the job until the test lets it finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from genmodels.backend import WorkerConfig
from genmodels.backends import BackendRegistry
from genmodels.redis_worker import RedisWorker
from mobile_bridge import protocol as wire
from server.settings import Settings
from tests.mobile_bridge.film.clips import make_film
from tests.server.cluster.conftest import Cluster
from tests.server.cluster.test_cluster import TIMEOUT, make_room, pages
from tests.server.cluster.test_failover import new_owner, owner_of
from tests.server.test_fill_ins_live import STORY as LIVE_STORY
from tests.server.test_fill_ins_live import FakeMontage, playing
from tests.timing import within

HALL_S = within(10.0)  # a takeover (the lease is 1.5 s) and the job fit before the cue
# The live fill-in test's story, with a hall long enough for a takeover.
STORY = LIVE_STORY.replace("duration: 3\n    choice:", f"duration: {HALL_S:.1f}\n    choice:")
assert STORY != LIVE_STORY


@contextlib.asynccontextmanager
async def worker(cluster: Cluster, backend: FakeMontage) -> AsyncIterator[RedisWorker]:
    config = WorkerConfig(media_dir=backend.media_dir)
    registry = BackendRegistry(config, instances={"montage": backend})
    prefix = Settings.model_fields["redis_prefix"].default
    taker = RedisWorker(cluster.redis.url, registry, config, prefix=prefix, claim_idle_s=30.0)
    task = asyncio.create_task(taker.run())
    try:
        yield taker
    finally:
        backend.release.set()
        taker.stop()
        async with asyncio.timeout(TIMEOUT):
            await task


@pytest.mark.asyncio
async def test_the_next_owner_adopts_a_job_in_flight_and_plays_its_clip(
    cluster: Cluster, tmp_path: Path
):
    media = tmp_path / "media"  # the nodes' media folder
    make_film(media, {"t/hall": "green", "t/red": "red", "t/blue": "blue"}, seconds=3.0)
    backend = FakeMontage(media, held=True, audio=False)
    backend.prepare(3.0)
    a, b = await asyncio.gather(*(cluster.node(n) for n in ("a", "b")))
    room = await make_room(a, story=STORY)  # a owns it
    code = room["code"]
    first = await owner_of(cluster, code)
    assert first is not None
    async with (
        worker(cluster, backend),
        pages(room, [(b, "host", "host"), (b, "bo", "phone")]) as (
            host,
            bo,
        ),
    ):
        bridge = asyncio.ensure_future(bo.wait_for(playing("bridge"), timeout=HALL_S + TIMEOUT))
        await host.host("start")  # nobody votes: the default is the bridge
        await bo.next_vote_open(timeout=TIMEOUT)
        async with asyncio.timeout(TIMEOUT):  # a's job for the bridge is running
            while backend.runs == 0:
                await asyncio.sleep(0.02)
        killed = time.monotonic()
        await a.kill()
        await new_owner(cluster, code, first, timeout=TIMEOUT)
        assert time.monotonic() - killed < HALL_S  # taken over well before the boundary
        backend.release.set()  # the job finishes now, for b
        state = await bridge
        assert isinstance(state, wire.State)
    assert state.media is not None and state.media.startswith("generated/"), state
    assert state.generated is not None
    assert backend.runs == 1  # asked for twice, made once
