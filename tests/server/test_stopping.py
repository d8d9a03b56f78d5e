"""`stop_tasks`: shutdown ends every background task, even one whose cancel was lost."""

from __future__ import annotations

import asyncio
import logging
import sys

import pytest

from server.stopping import stop_tasks
from tests.timing import within


async def _settled() -> None:
    for _ in range(5):  # let callbacks scheduled by a cancel or a result run
        await asyncio.sleep(0)


@pytest.mark.asyncio
async def test_a_loop_whose_cancel_wait_for_lost_is_still_stopped(caplog):
    """The way redis-py loses a cancel on Python 3.11: the cancel arrives in the same loop
    turn as the result of the ``asyncio.wait_for`` it sends each command through."""
    current: list[asyncio.Future[None]] = []
    turns = 0

    async def reader() -> None:
        nonlocal turns
        while True:  # a stream reader: one command after another
            current.append(asyncio.get_running_loop().create_future())
            await asyncio.wait_for(current[-1], 5)
            turns += 1

    task = asyncio.create_task(reader(), name="reader")
    await _settled()
    current[-1].set_result(None)  # Redis answers ...
    task.cancel()  # ... as a plain shutdown cancels the reader
    await _settled()
    assert task.done() is (sys.version_info >= (3, 12))  # gh-86296: 3.11 drops the cancel
    if task.done():
        return
    caplog.set_level(logging.WARNING, "server.stopping")
    current[-1].set_result(None)  # the same race, under stop_tasks
    async with asyncio.timeout(within(30)):
        await stop_tasks([task])
    assert task.cancelled() and turns == 2
    assert "task reader went on after its cancel: cancelled again" in caplog.text


@pytest.mark.asyncio
async def test_tasks_that_end_at_their_cancel_are_stopped_at_once_and_their_errors_dropped(
    caplog,
):
    async def waits() -> None:
        await asyncio.Event().wait()

    async def fails() -> None:
        raise RuntimeError("already failed")

    tasks = [asyncio.create_task(waits()), asyncio.create_task(fails())]
    await _settled()
    caplog.set_level(logging.WARNING)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await stop_tasks(tasks)
    assert tasks[0].cancelled() and isinstance(tasks[1].exception(), RuntimeError)
    assert loop.time() - started < 1.0  # no second cancel was waited for
    assert "cancelled again" not in caplog.text and "never retrieved" not in caplog.text


@pytest.mark.asyncio
async def test_a_task_that_ignores_every_cancel_but_one_ends_with_the_second():
    cancels = 0

    async def stubborn() -> None:
        nonlocal cancels
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                cancels += 1
                if cancels > 1:
                    raise

    task = asyncio.create_task(stubborn())
    await _settled()
    async with asyncio.timeout(within(30)):
        await stop_tasks(iter([task]))  # any iterable
    assert cancels == 2 and task.cancelled()
