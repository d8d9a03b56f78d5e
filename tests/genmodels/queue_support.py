"""What the queue tests share: the real Redis, a job factory, a room's inbox, workers.

Every test uses its own key prefix (``test:<uuid>``) on the Redis at ``REDIS_URL`` and
deletes its keys afterwards. Waits are bounded by ``TIMEOUT`` (scaled by
``KINOROOM_TEST_TIMEOUT_SCALE``).
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from redis.asyncio import Redis

from genmodels.jobs import Job, Progress, Result, Update
from genmodels.queue import JobQueue
from genmodels.redis_streams import StreamKeys, decode_update

REDIS_URL = os.environ.get("KINOROOM_TEST_REDIS_URL", "redis://127.0.0.1:6379")
TIMEOUT = 10.0 * float(os.environ.get("KINOROOM_TEST_TIMEOUT_SCALE", "1"))
ROOT = Path(__file__).resolve().parents[2]


def make_job(room: str = "ROOM1", prompt: str = "sleep 0", *, in_s: float = 60.0) -> Job:
    return Job(
        room=room,
        scene="bridge",
        backend="montage",
        prompt=prompt,
        duration_s=2.0,
        seed=7,
        deadline=time.time() + in_s,
    )


class Inbox:
    """A room's view of the queue: every update delivered to it, in order."""

    def __init__(self, queue: JobQueue, room: str) -> None:
        self.updates: asyncio.Queue[Update] = asyncio.Queue()
        self.seen: list[Update] = []
        self.unsubscribe = queue.subscribe(room, self.updates.put_nowait)

    async def next(self) -> Update:
        async with asyncio.timeout(TIMEOUT):
            update = await self.updates.get()
        self.seen.append(update)
        return update

    async def progress(self) -> Progress:
        while not isinstance(update := await self.next(), Progress):
            pass
        return update

    async def result(self) -> Result:
        while not isinstance(update := await self.next(), Result):
            pass
        return update


@asynccontextmanager
async def redis_prefix() -> AsyncIterator[tuple[Redis, StreamKeys]]:
    """A fresh key prefix and a client; every key under the prefix is deleted after."""
    keys = StreamKeys(f"test:{uuid.uuid4().hex}")
    redis = Redis.from_url(REDIS_URL, decode_responses=True, protocol=2)
    try:
        yield redis, keys
    finally:
        asked = [key async for key in redis.scan_iter(match=keys.asked("*"))]
        await redis.delete(*keys.all(), *asked)
        await redis.aclose()


async def results_published(redis: Redis, keys: StreamKeys, job: str) -> list[Result]:
    """Every result for ``job`` in the updates stream (what all servers would see)."""
    updates = [decode_update(fields) for _id, fields in await redis.xrange(keys.updates)]
    return [u for u in updates if isinstance(u, Result) and u.job == job]


async def pending_count(redis: Redis, keys: StreamKeys) -> int:
    summary = await redis.xpending(keys.jobs("montage"), keys.group)
    return int(summary["pending"])


def worker_env(tmp_path: Path, redis_url: str | None = REDIS_URL) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KINOROOM_")}
    env |= {"KINOROOM_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    if redis_url:
        env["KINOROOM_REDIS_URL"] = redis_url
    return env


class WorkerProcess:
    """``kinoroom worker`` in a subprocess (``python -m server.cli worker``)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self.worker_id = ""
        self._ready = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, tmp_path: Path, keys: StreamKeys, *flags: str) -> WorkerProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "server.cli",
            "worker",
            "--backends",
            "montage=tests.genmodels.queue_backends:SleepBackend",
            "--prefix",
            keys.prefix,
            *flags,
            cwd=ROOT,
            env=worker_env(tmp_path),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        worker = cls(process)
        try:
            async with asyncio.timeout(TIMEOUT):
                await worker._ready.wait()
        except TimeoutError:
            await worker.kill()
            raise AssertionError("worker never ready:\n" + "\n".join(worker.lines)) from None
        return worker

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            line = raw.decode(errors="replace").rstrip()
            self.lines.append(line)
            if ready := re.search(r"worker (\S+) ready: backends=", line):
                self.worker_id = ready[1]
                self._ready.set()

    async def wait(self) -> int:
        async with asyncio.timeout(TIMEOUT):
            code = await self.process.wait()
            await self._reader
        return code

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
        await self.wait()
