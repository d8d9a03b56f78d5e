"""Stopping background tasks at shutdown, even one that a library let go on after a cancel.

On Python 3.11, ``asyncio.wait_for`` returns its inner result when a cancel arrives in the
same loop turn as that result: the cancel is lost (CPython gh-86296, fixed in 3.12 by
rewriting ``wait_for`` on ``asyncio.timeout``). redis-py 8 sends every command through
``wait_for`` (its default ``socket_timeout`` is 5 s), so a loop that reads or writes Redis
survives about one cancel in fifty (measured: a stream reader cancelled at random moments)
and goes on reading; whoever awaited it (a node's shutdown, so the server's exit) waits
for ever. `stop_tasks` cancels again a task that is still running a while later.

A task stopped here must not await anything for long after its cancel: a second cancel
would cut that short. The longest today is a room's owner closing its fill-ins (it waits
up to 1 s for their submissions to end), hence `RECANCEL_S`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)

RECANCEL_S = 2.0  # a task still running this long after its cancel is cancelled again


async def stop_tasks(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel ``tasks`` and wait until every one has ended; what they raised is dropped
    (as ``gather(..., return_exceptions=True)``), and the caller's own cancel goes on."""
    every = list(tasks)
    pending = {task for task in every if not task.done()}
    for task in pending:
        task.cancel()
    while pending:
        _, pending = await asyncio.wait(pending, timeout=RECANCEL_S)
        for task in pending:
            log.warning("task %s went on after its cancel: cancelled again", task.get_name())
            task.cancel()
    for task in every:
        if not task.cancelled():
            task.exception()  # retrieved, so asyncio does not log it as never retrieved


__all__ = ["RECANCEL_S", "stop_tasks"]
