"""The in-process job queue: jobs run in threads, updates come back on the loop."""

from __future__ import annotations

import asyncio

import pytest

from genmodels.backend import WorkerConfig
from genmodels.backends import BackendRegistry, parse_backends
from genmodels.jobs import Progress
from genmodels.local_queue import LocalQueue
from genmodels.worker import ProgressGate
from tests.genmodels.queue_backends import (
    CrashBackend,
    FailBackend,
    SleepBackend,
    StyleBackend,
)
from tests.genmodels.queue_support import TIMEOUT, Inbox, make_job


@pytest.fixture
def config(tmp_path):
    return WorkerConfig(media_dir=tmp_path)


async def started(queue: LocalQueue) -> LocalQueue:
    await queue.start()
    return queue


@pytest.mark.asyncio
async def test_a_job_sends_progress_then_done_to_its_room_only(config):
    backend = SleepBackend(config)
    queue = await started(LocalQueue(config, 1, {"montage": backend}))
    try:
        mine, other = Inbox(queue, "ROOM1"), Inbox(queue, "ROOM2")
        job = make_job("ROOM1", "sleep 0.05")
        await queue.submit(job)
        progress = await mine.progress()
        result = await mine.result()
    finally:
        await queue.close()
    assert progress.job == job.id
    assert progress.stage == "start"
    assert isinstance(mine.seen[0], Progress)  # progress before the result
    assert (result.status, result.media, result.scene) == ("done", f"generated/{job.id}", "bridge")
    assert result.provenance is not None
    assert result.provenance.worker  # which process made it
    assert result.provenance.timings["total"] >= 0.05
    assert other.updates.empty()
    assert backend.runs == 1


@pytest.mark.asyncio
async def test_a_job_past_its_deadline_is_late_without_running(config):
    backend = SleepBackend(config)
    queue = await started(LocalQueue(config, 1, {"montage": backend}))
    try:
        inbox = Inbox(queue, "ROOM1")
        await queue.submit(make_job(in_s=-1.0))
        result = await inbox.result()
    finally:
        await queue.close()
    assert (result.status, result.code) == ("late", "deadline-passed")
    assert result.media is None
    assert backend.runs == 0


@pytest.mark.asyncio
async def test_a_job_finished_after_its_deadline_is_late_but_keeps_its_clip(config):
    queue = await started(LocalQueue(config, 1, {"montage": SleepBackend(config)}))
    try:
        inbox = Inbox(queue, "ROOM1")
        job = make_job(prompt="sleep 0.3", in_s=0.1)
        await queue.submit(job)
        result = await inbox.result()
    finally:
        await queue.close()
    assert (result.status, result.code) == ("late", "finished-late")
    assert result.media == f"generated/{job.id}"
    assert result.provenance is not None  # recorded, though it will not play


@pytest.mark.asyncio
async def test_a_generation_error_fails_the_job_with_its_code(config):
    queue = await started(LocalQueue(config, 1, {"montage": FailBackend(config)}))
    try:
        inbox = Inbox(queue, "ROOM1")
        await queue.submit(make_job())
        result = await inbox.result()
    finally:
        await queue.close()
    assert (result.status, result.code) == ("failed", "test-broken")
    assert result.message == "this backend always fails"


@pytest.mark.asyncio
async def test_a_style_rejection_keeps_its_provenance(config):
    queue = await started(LocalQueue(config, 1, {"montage": StyleBackend(config)}))
    try:
        inbox = Inbox(queue, "ROOM1")
        await queue.submit(make_job())
        result = await inbox.result()
    finally:
        await queue.close()
    assert (result.status, result.code) == ("rejected", "style-rejected")
    assert result.provenance is not None
    assert result.provenance.style_score == 0.2


@pytest.mark.asyncio
async def test_a_crashing_backend_fails_the_job_and_the_queue_goes_on(config):
    crash, sleep = CrashBackend(config), SleepBackend(config)
    registry = BackendRegistry(config, instances={"montage": crash, "text": sleep})
    queue = await started(LocalQueue(config, 1, registry))
    try:
        inbox = Inbox(queue, "ROOM1")
        await queue.submit(make_job())
        crashed = await inbox.result()
        await queue.submit(make_job().model_copy(update={"backend": "text"}))
        after = await inbox.result()
    finally:
        await queue.close()
    assert (crashed.status, crashed.code) == ("failed", "backend-crashed")
    assert "RuntimeError" in (crashed.message or "")
    assert after.status == "done"


@pytest.mark.asyncio
async def test_a_missing_backend_module_is_backend_unavailable(config):
    registry = BackendRegistry(config, {"montage": "no_such_module_here:Backend"})
    queue = await started(LocalQueue(config, 1, registry))
    try:
        inbox = Inbox(queue, "ROOM1")
        await queue.submit(make_job())
        missing = await inbox.result()
        await queue.submit(make_job().model_copy(update={"backend": "diffusion"}))
        unserved = await inbox.result()
    finally:
        await queue.close()
    assert (missing.status, missing.code) == ("failed", "backend-unavailable")
    assert "no_such_module_here" in (missing.message or "")
    assert (unserved.status, unserved.code) == ("failed", "backend-unavailable")


@pytest.mark.asyncio
async def test_no_workers_answers_at_once_so_the_fallback_plays(config):
    backend = SleepBackend(config)
    queue = await started(LocalQueue(config, 0, {"montage": backend}))
    try:
        inbox = Inbox(queue, "ROOM1")
        await queue.submit(make_job())
        result = await inbox.result()
    finally:
        await queue.close()
    assert (result.status, result.code) == ("failed", "no-workers")
    assert backend.runs == 0


@pytest.mark.asyncio
async def test_a_full_queue_refuses_the_extra_job_at_once(config):
    queue = await started(LocalQueue(config, 1, {"montage": SleepBackend(config)}, max_pending=1))
    try:
        inbox = Inbox(queue, "ROOM1")
        first, second = make_job(prompt="sleep 0.2"), make_job()
        await queue.submit(first)
        await queue.submit(second)
        refused = await inbox.result()
        done = await inbox.result()
    finally:
        await queue.close()
    assert (refused.job, refused.status, refused.code) == (second.id, "failed", "queue-full")
    assert (done.job, done.status) == (first.id, "done")


@pytest.mark.asyncio
async def test_a_listener_that_unsubscribed_hears_nothing(config):
    queue = await started(LocalQueue(config, 1, {"montage": SleepBackend(config)}))
    try:
        gone, staying = Inbox(queue, "ROOM1"), Inbox(queue, "ROOM1")
        gone.unsubscribe()
        await queue.submit(make_job())
        await staying.result()
    finally:
        await queue.close()
    assert gone.updates.empty()


def test_the_registry_imports_nothing_until_a_job_needs_it(config):
    registry = BackendRegistry(config)
    assert registry.names == ("montage", "text", "diffusion")
    assert registry._instances == {}


def test_backends_parse_from_the_command_line():
    assert parse_backends("montage, text") == {
        "montage": "genmodels.montage:MontageBackend",
        "text": "genmodels.caption:CaptionBackend",
    }
    assert parse_backends("montage=pkg.mod:Fake") == {"montage": "pkg.mod:Fake"}
    for bad in ("", "sound", "montage=pkg.mod", "text,text"):
        with pytest.raises(ValueError):  # noqa: PT011 (the CLI shows each message)
            parse_backends(bad)


def test_progress_is_let_through_when_it_says_something_new():
    gate = ProgressGate(interval_s=0.25)
    admitted = [
        gate.admit(fraction, stage, now)
        for fraction, stage, now in [
            (0.0, "frames", 0.0),  # first: yes
            (0.1, "frames", 0.1),  # too soon
            (0.2, "frames", 0.3),  # interval passed
            (0.2, "frames", 0.9),  # nothing new
            (0.0, "encode", 0.95),  # new stage
            (1.0, "encode", 0.96),  # the end always
        ]
    ]
    assert admitted == [True, False, True, False, True, True]


@pytest.mark.asyncio
async def test_a_job_asked_for_again_is_adopted_not_run_twice(config):
    """A crashed room restored in this process asks again for its jobs, under the same
    ids: the running job is not run again, and its result, which came while the room had
    no listener, goes to the room's next listener."""
    backend = SleepBackend(config)
    queue = await started(LocalQueue(config, 1, {"montage": backend}))
    try:
        old = Inbox(queue, "ROOM1")
        job = make_job("ROOM1", "sleep 0.2")
        await queue.submit(job)
        await old.progress()
        old.unsubscribe()  # the room failed
        await queue.submit(job)  # its restored owner asks again
        async with asyncio.timeout(TIMEOUT):
            while backend.runs == 0 or queue._tasks:
                await asyncio.sleep(0.02)  # the job ends with nobody listening
        new = Inbox(queue, "ROOM1")  # the restored owner subscribes
        result = await new.result()
        other = Inbox(queue, "ROOM2")
    finally:
        await queue.close()
    assert (result.job, result.status) == (job.id, "done")
    assert backend.runs == 1
    assert other.updates.empty()  # a kept result goes to its own room's listener only
