"""Fill-in jobs over Redis Streams, through a live server and real `kinoroom worker`
processes: the worker that took the job is SIGKILLed; another takes it over (XAUTOCLAIM)
and its clip plays at the boundary. With the job lost for good, the fallback plays on
time: the room never waits for a worker."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from genmodels.redis_queue import RedisQueue
from mobile_bridge.client import PhoneClient
from mobile_bridge.join import join_room
from mobile_bridge.protocol import State, VoteOpen
from tests.genmodels.queue_support import REDIS_URL, WorkerProcess, redis_prefix
from tests.mobile_bridge.film.clips import make_film
from tests.server.conftest import running, settings_for
from tests.server.test_fill_ins_live import playing
from tests.timing import within

# The hall must outlast a worker's death, a second worker's start and its job: its
# length is sized from how long the first worker took to start (`hall_s`).
STORY = """
kinoroom: 1
title: The bridge
start: hall
scenes:
  hall:
    media: t/hall
    duration: {hall_s:.1f}
    choice:
      at: 0.2
      window: 1.0
      prompt: Which way?
      default: bridge
      options:
        - {{id: bridge, label: Over the bridge, goto: bridge}}
        - {{id: back, label: Back, goto: back}}
  bridge:
    media: t/red
    duration: 2
    generate: {{backend: montage, prompt: A bridge at dusk}}
    ending: true
  back: {{media: t/blue, duration: 2, ending: true}}
"""


def hall_s(worker_start_s: float) -> float:
    """Kill, a second worker's start (as slow as the first, twice over), its claim of the
    job (1 s idle) and the job (a 2 s clip), before the margin."""
    return max(12.0, 6.0 + 3.0 * worker_start_s)


async def worker(tmp_path: Path, prefix: str, delay_s: float) -> WorkerProcess:
    os.environ["FILL_IN_DELAY_S"] = str(delay_s)  # read by the subprocess's backend
    os.environ["KINOROOM_MEDIA_DIR"] = str(tmp_path / "media")
    try:
        from genmodels.redis_streams import StreamKeys

        return await WorkerProcess.start(
            tmp_path, StreamKeys(prefix), "--backends",
            "montage=tests.server.fill_in_backends:ClipAfterDelay", "--claim-idle", "1",
        )  # fmt: skip
    finally:
        del os.environ["FILL_IN_DELAY_S"], os.environ["KINOROOM_MEDIA_DIR"]


@pytest.mark.parametrize("rescued", [True, False], ids=["taken-over", "lost"])
@pytest.mark.asyncio
async def test_a_killed_workers_job_is_taken_over_or_the_fallback_plays_on_time(
    tmp_path: Path, rescued: bool
):
    media = tmp_path / "media"
    make_film(media, {"t/hall": "green", "t/red": "red", "t/blue": "blue"}, seconds=3.0)
    async with redis_prefix() as (redis, keys):
        began = time.monotonic()
        first = await worker(tmp_path, keys.prefix, 60.0)  # slow: it will not finish
        hall = hall_s(time.monotonic() - began)
        settings = settings_for(tmp_path, media_dir=media, gen_margin_s=1.0,
                                redis_url=REDIS_URL, redis_prefix=keys.prefix)  # fmt: skip
        async with running(settings) as live:
            assert isinstance(live.services.gen_queue, RedisQueue)
            story_id = await live.story(STORY.format(hall_s=hall))
            room = (await live.http.post("/api/rooms", json={"story_id": story_id})).json()
            seat = await join_room(live.url, room["code"], "Ada", http=live.http)
            async with (
                PhoneClient(live.url, room["code"], room["host_token"], "host") as host,
                PhoneClient(live.url, room["code"], seat.token) as phone,
            ):
                hall_state = asyncio.ensure_future(
                    phone.wait_for(playing("hall"), timeout=within(10))
                )
                bridge = asyncio.ensure_future(
                    phone.wait_for(playing("bridge"), timeout=hall + within(10))
                )
                opened = asyncio.ensure_future(phone.wait_for(VoteOpen, timeout=within(10)))
                await host.host("start")
                await phone.vote((await opened).choice, "bridge")
                # The first worker's progress on the job: it has taken it (a blocking read).
                progress = await redis.xread(
                    {keys.updates: "0"}, count=1, block=int(within(10) * 1000)
                )
                assert progress, "the first worker never reported progress"
                await first.kill()
                second = await worker(tmp_path, keys.prefix, 0.2) if rescued else None
                started, shown = await hall_state, await bridge
                assert isinstance(started, State) and isinstance(shown, State)
                assert shown.starts_at == started.ends_at  # on time either way
                code = room["code"]
                assets = await live.services.store.generated_assets(code)
                if rescued:
                    assert second is not None
                    assert shown.generated is not None and shown.media.startswith("generated/")
                    (asset,) = assets
                    assert asset.status == "done" and asset.worker == second.worker_id
                    await second.kill()
                else:
                    assert (shown.media, shown.generated, assets) == ("t/red", None, [])
