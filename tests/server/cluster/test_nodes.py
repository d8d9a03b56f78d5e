"""A cluster as an operator meets it: `serve --workers`, `cluster status`, what it refuses,
and what the nodes share (the failed-join budget)."""

from __future__ import annotations

import asyncio
import signal
import sys

import httpx
import pytest

from mobile_bridge import protocol as wire
from tests.server.cluster.conftest import ROOT, START_S, Cluster, free_port
from tests.server.cluster.test_cluster import TIMEOUT, make_room, pages
from tests.timing import within


async def cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.cli", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("unset", "value", "code"),
    [
        ("KINOROOM_DATABASE_URL", "sqlite+aiosqlite:////tmp/x.db", "cluster-needs-postgresql"),
        ("KINOROOM_SECRET_KEY", None, "cluster-needs-secret"),
        ("KINOROOM_REDIS_URL", None, "cluster-needs-redis"),
    ],
)
async def test_a_node_refuses_what_one_machine_alone_has(cluster: Cluster, unset, value, code):
    env = {k: v for k, v in cluster.env.items() if k != unset}
    if value is not None:
        env[unset] = value
    env["KINOROOM_PORT"] = "0"
    status, _, err = await cli(env, "serve")
    assert status == 1
    (line,) = err.strip().splitlines()  # one line, never a traceback
    assert line.startswith(f"error {code}: {unset}: ")


@pytest.mark.asyncio
async def test_two_workers_on_one_port_are_one_kinoroom(cluster: Cluster, tmp_path):
    port = free_port()
    env = {**cluster.env, "KINOROOM_PORT": str(port), "KINOROOM_DATA_DIR": str(tmp_path / "w")}
    env.pop("KINOROOM_CLUSTER")  # --workers makes it a cluster
    log = (tmp_path / "workers.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.cli", "serve", "--workers", "2",
        cwd=ROOT, env=env, stdout=log, stderr=log,
    )  # fmt: skip
    try:
        async with asyncio.timeout(START_S):
            while True:
                status, out, _ = await cli(env, "cluster", "status")
                if status == 0 and out.strip().splitlines()[-1].startswith("2 nodes"):
                    break
                await asyncio.sleep(0.2)
        url = f"http://127.0.0.1:{port}"
        node = type("Here", (), {"url": url})()
        room = await make_room(node)  # type: ignore[arg-type]
        layout = [(node, "host", "host")] + [(node, f"p{i}", "phone") for i in range(12)]
        async with pages(room, layout) as (host, *phones):  # type: ignore[arg-type]
            await host.host("start")
            door = await phones[0].next_vote_open(timeout=TIMEOUT)
            for phone in phones:
                ack = await phone.vote(door.choice, "open", timeout=TIMEOUT)
                assert isinstance(ack, wire.VoteAck)
            _, out, _ = await cli(env, "cluster", "status")
            per_node = [line for line in out.splitlines() if " sockets: " in line]
            assert len(per_node) == 2
            # The kernel spread the 13 sockets over both workers (all on one: 1 in 4,096).
            assert all("none" not in line.split("sockets: ")[1] for line in per_node), out
        proc.send_signal(signal.SIGTERM)  # both workers stop, and so does the parent
        async with asyncio.timeout(within(30)):
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        log.close()


@pytest.mark.asyncio
async def test_the_failed_join_budget_is_one_for_every_node(cluster: Cluster):
    env = {"KINOROOM_JOIN_ATTEMPTS_PER_MIN": "4"}
    cluster.env.update(env)
    a, b = await asyncio.gather(*(cluster.node(n) for n in ("a", "b")))
    statuses = []
    for node in (a, b, a, b, a, b):
        async with httpx.AsyncClient(base_url=node.url, trust_env=False) as http:
            statuses.append((await http.get("/api/rooms/ZZZZZZ")).status_code)
    assert statuses == [404, 404, 404, 404, 429, 429]  # four wrong codes, whichever node


@pytest.mark.asyncio
async def test_cluster_status_lists_each_node_with_its_rooms(cluster: Cluster):
    a, b = await asyncio.gather(*(cluster.node(n) for n in ("a", "b")))
    room = await make_room(a)
    async with pages(room, [(b, "bo", "phone")]):
        async with asyncio.timeout(TIMEOUT):  # heartbeats come every second, each node's own
            while True:
                status, out, _ = await cli(cluster.env, "cluster", "status")
                if "1 phones" in out and "2 nodes, 1 rooms" in out:
                    break
                await asyncio.sleep(0.2)
    assert status == 0
    lines = out.strip().splitlines()
    assert len(lines) == 3 and lines[-1].startswith("2 nodes, 1 rooms")
    owner = next(line for line in lines if room["code"] in line)
    assert "owns 1" in owner
    holder = next(line for line in lines if "1 phones" in line)
    assert "holds 1" in holder
    # Each node's metrics say which node they are.
    async with httpx.AsyncClient(base_url=a.url, trust_env=False) as http:
        metrics = (await http.get("/metrics")).text
    node = owner.split()[0]
    assert f'kinoroom_rooms{{node="{node}"}}' in metrics
