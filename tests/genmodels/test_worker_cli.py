"""``kinoroom worker`` as a real process: SIGKILL mid-job, SIGTERM, and no Redis at all."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys

import pytest

from server.cli import main
from tests.genmodels.queue_support import (
    ROOT,
    TIMEOUT,
    Inbox,
    WorkerProcess,
    make_job,
    pending_count,
    results_published,
    worker_env,
)


@pytest.mark.asyncio
async def test_a_job_whose_worker_is_killed_is_finished_by_another(tmp_path, redis, queue):
    client, keys = redis
    inbox = Inbox(queue, "ROOM1")
    job = make_job(prompt="sleep 1.5")
    first = await WorkerProcess.start(tmp_path, keys, "--claim-idle", "1")
    try:
        await queue.submit(job)
        await inbox.progress()  # the first worker is running it
    finally:
        await first.kill()  # SIGKILL: no goodbye, the entry stays pending for it
    assert first.process.returncode == -signal.SIGKILL
    second = await WorkerProcess.start(tmp_path, keys, "--claim-idle", "1")
    try:
        result = await inbox.result()
    finally:
        second.process.terminate()
        assert await second.wait() == 0
    assert (result.job, result.status) == (job.id, "done")
    assert result.provenance is not None
    assert result.provenance.worker == second.worker_id != first.worker_id
    assert len(await results_published(client, keys, job.id)) == 1
    assert await pending_count(client, keys) == 0
    assert any(f"job {job.id} room=ROOM1" in line and "attempt=1" in line for line in second.lines)


@pytest.mark.asyncio
async def test_sigterm_lets_the_running_job_finish_then_exits_0(tmp_path, redis, queue):
    client, keys = redis
    inbox = Inbox(queue, "ROOM1")
    job = make_job(prompt="sleep 1.0")
    worker = await WorkerProcess.start(tmp_path, keys, "--claim-idle", "1")
    try:
        await queue.submit(job)
        await inbox.progress()
        worker.process.terminate()
        result = await inbox.result()
    finally:
        code = await worker.wait()
    assert code == 0
    assert (result.job, result.status) == (job.id, "done")
    assert await pending_count(client, keys) == 0
    (line,) = [line for line in worker.lines if f"job {job.id}" in line]
    for field in ("room=ROOM1", "scene=bridge", "backend=montage", "status=done", "seconds="):
        assert field in line
    # It left the group: a worker that stopped cleanly holds nothing.
    assert await client.xinfo_consumers(keys.jobs("montage"), keys.group) == []


def test_the_worker_needs_redis(monkeypatch, capsys):
    monkeypatch.delenv("KINOROOM_REDIS_URL", raising=False)
    assert main(["worker"]) == 2
    assert capsys.readouterr().err.startswith("error worker-needs-redis: ")


@pytest.mark.asyncio
async def test_an_unreachable_redis_is_an_error_not_a_hang(tmp_path):
    env_url = "redis://127.0.0.1:1"  # nothing listens on port 1
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.cli",
        "worker",
        cwd=ROOT,
        env=worker_env(tmp_path, env_url),
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(TIMEOUT):
        _out, err = await process.communicate()
    assert process.returncode == 1
    assert b"error redis-unreachable: " in err


def test_the_server_side_never_imports_torch():
    code = (
        "import sys, server.app, server.cli, genmodels.local_queue, genmodels.redis_queue, "
        "genmodels.worker_main\n"
        "from genmodels.backends import BackendRegistry\n"
        "heavy = {'torch', 'transformers', 'diffusers'} & set(sys.modules)\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=TIMEOUT * 6)


def test_the_default_prefix_is_the_server_s_and_one_cluster_slot():
    from genmodels.redis_streams import DEFAULT_PREFIX, StreamKeys
    from server.settings import Settings

    assert Settings().redis_prefix == DEFAULT_PREFIX  # the queue's own default is the server's
    keys = StreamKeys()
    # Redis Cluster hashes only what is inside the first {...}: every key, one slot.
    assert {k[k.index("{") + 1 : k.index("}")] for k in (keys.jobs("montage"), keys.group,
            keys.updates, keys.dead, keys.errors)} == {"kinoroom"}  # fmt: skip
