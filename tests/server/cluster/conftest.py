"""A cluster on this machine: real ``kinoroom serve`` processes, a Redis of the test's own
and a PostgreSQL database of its own (nothing mocked).

The Redis is started by the test (``redis-server`` on a free port, nothing on disk), so a
test may kill and restart it without touching the machine's shared Redis. The database
is a fresh PostgreSQL database on 127.0.0.1:5432, dropped afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest_asyncio
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from tests.timing import SCALE, within

ROOT = Path(__file__).resolve().parents[3]
ADMIN_URL = os.environ.get(
    "KINOROOM_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
START_S = 60 * SCALE  # a node's start on a busy machine, at most
LEASE_S = 1.5  # the cluster's lease: a dead owner's rooms are taken over within 2 s
SECRET = "cluster-test-secret-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivateRedis:
    """``redis-server`` of the test's own, on a free port, keeping nothing on disk."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tmp_path
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = await asyncio.create_subprocess_exec(
            binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(self.dir),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        client = Redis.from_url(self.url)
        try:
            async with asyncio.timeout(START_S):
                while True:
                    with contextlib.suppress(OSError, Exception):
                        if await client.ping():
                            return
                    await asyncio.sleep(0.02)
        finally:
            await client.aclose()

    async def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()


class Node:
    """One ``kinoroom serve`` of the cluster (the real CLI, in its own process)."""

    def __init__(self, name: str, tmp_path: Path, env: dict[str, str]) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / f"{name}.log"
        data = tmp_path / name
        self.env = {**env, "KINOROOM_PORT": str(self.port), "KINOROOM_DATA_DIR": str(data)}
        self.proc: asyncio.subprocess.Process | None = None

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:] if self.log.exists() else ""

    async def start(self) -> None:
        assert self.proc is None
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "server.cli", "serve",
                cwd=ROOT, env=self.env, stdout=log, stderr=log,
            )  # fmt: skip
        async with (
            asyncio.timeout(START_S),
            httpx.AsyncClient(base_url=self.url, trust_env=False, timeout=within(60)) as http,
        ):
            while True:
                assert self.proc.returncode is None, self.output()
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/healthz")).status_code == 200:
                        return
                await asyncio.sleep(0.05)

    def signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    async def kill(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()

    async def stop(self) -> None:
        """SIGTERM; a node that has not exited 20 s later is killed and fails the test (a
        server that hangs in shutdown outlives its supervisor's patience in production)."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.returncode is None:
            proc.send_signal(signal.SIGCONT)
            proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(20 * SCALE):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()
                hung = f"node {self.name} hung in shutdown:\n{self.output()}"
                raise AssertionError(hung) from None


class Cluster:
    def __init__(
        self, tmp_path: Path, redis: PrivateRedis, database_url: str, lease_s: float = LEASE_S
    ) -> None:
        self.redis = redis
        self.database_url = database_url
        env = {k: v for k, v in os.environ.items() if not k.startswith("KINOROOM_")}
        env.update(
            KINOROOM_CLUSTER="true",
            KINOROOM_REDIS_URL=redis.url,
            KINOROOM_DATABASE_URL=database_url,
            KINOROOM_SECRET_KEY=SECRET,
            KINOROOM_HOST="127.0.0.1",
            KINOROOM_DEMO_ROOM="false",
            KINOROOM_TICK_INTERVAL_S="0.02",
            KINOROOM_TALLY_INTERVAL_S="0.05",
            KINOROOM_CLUSTER_LEASE_S=str(lease_s),
            KINOROOM_AFFECT_WORKERS="0",
            KINOROOM_ICE_HOSTS='["127.0.0.1"]',
            KINOROOM_MEDIA_DIR=str(tmp_path / "media"),
        )
        self.env = env
        self.tmp_path = tmp_path
        self.nodes: list[Node] = []

    async def node(self, name: str) -> Node:
        node = Node(name, self.tmp_path, self.env)
        self.nodes.append(node)
        await node.start()
        return node

    async def close(self) -> None:
        stops = (node.stop() for node in self.nodes)
        for failed in await asyncio.gather(*stops, return_exceptions=True):
            if failed is not None:
                raise failed


@asynccontextmanager
async def running_cluster(
    tmp_path: Path, *, database_prefix: str = "kr", lease_s: float = LEASE_S
) -> AsyncIterator[Cluster]:
    """A Redis and a database of its own for a cluster (no node started yet), and every
    node stopped, Redis stopped and the database dropped afterwards (`bench/failover.py`
    runs one too)."""
    name = f"{database_prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(ADMIN_URL, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        redis = PrivateRedis(tmp_path)
        try:
            await redis.start()
            database_url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
            built = Cluster(tmp_path, redis, database_url, lease_s)
            try:
                yield built
            finally:
                await built.close()
        finally:
            await redis.stop()
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@pytest_asyncio.fixture
async def cluster(tmp_path) -> AsyncIterator[Cluster]:
    async with running_cluster(tmp_path) as built:
        yield built
