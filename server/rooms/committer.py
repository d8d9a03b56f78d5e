"""Group commit: every room's writes of the last few milliseconds in one transaction.

Rooms hand their batch to `commit()` and wait; the committer's task takes everything
queued, writes it as one transaction, and wakes each waiter. While one transaction is in
flight, new batches pile up and go together in the next one, so the commit rate adapts
to the load by itself: one vote commits alone in a quiet room, a thousand votes a second
commit a few hundred at a time. A failed merged commit is retried batch by batch so one
room's bad batch fails only that room.
"""

from __future__ import annotations

import asyncio
import logging
import time

from server.metrics import Metrics
from server.persistence import Batch, Store

log = logging.getLogger(__name__)


class Committer:
    def __init__(self, store: Store, metrics: Metrics, *, max_pending: int = 10_000) -> None:
        self._store = store
        self._metrics = metrics
        self._queue: asyncio.Queue[tuple[Batch, asyncio.Future[None]]] = asyncio.Queue(max_pending)

    async def commit(self, batch: Batch) -> None:
        """Return once ``batch`` is durable.

        Raises:
            Exception: whatever the store raised for this batch.
        """
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put((batch, done))
        await done

    async def run(self) -> None:
        """Commit until cancelled; pending waiters are failed on the way out."""
        try:
            while True:
                pending = [await self._queue.get()]
                while not self._queue.empty():
                    pending.append(self._queue.get_nowait())
                await self._write(pending)
        finally:
            while not self._queue.empty():
                _, done = self._queue.get_nowait()
                if not done.done():
                    done.set_exception(RuntimeError("committer stopped"))

    async def _write(self, pending: list[tuple[Batch, asyncio.Future[None]]]) -> None:
        merged = pending[0][0].merge(*(batch for batch, _ in pending[1:]))
        started = time.perf_counter()
        try:
            await self._store.commit(merged)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if len(pending) == 1:
                log.exception("commit failed")
                _fail(pending[0][1], exc)
                return
            for batch, done in pending:  # find the batch at fault; the rest still commit
                try:
                    await self._store.commit(batch)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.exception("commit failed")
                    _fail(done, exc)
                else:
                    _settle(done)
            return
        self._metrics.commit_seconds.observe(time.perf_counter() - started)
        self._metrics.commit_events.observe(len(merged.events))
        for _, done in pending:
            _settle(done)


def _settle(done: asyncio.Future[None]) -> None:
    if not done.done():  # the waiter may have been cancelled meanwhile
        done.set_result(None)


def _fail(done: asyncio.Future[None], exc: Exception) -> None:
    if not done.done():
        done.set_exception(exc)


__all__ = ["Committer"]
