"""The job queue: one interface, two engines (DESIGN.md, "Scale").

- `genmodels.local_queue.LocalQueue`: in-process (the default); its workers are threads
  of the server's own process.
- `genmodels.redis_queue.RedisQueue`: Redis Streams with a consumer group, used when
  ``KINOROOM_REDIS_URL`` is set; ``kinoroom worker`` processes (CPU or GPU) run the jobs.

A room submits jobs and subscribes to its updates (progress, then one result per job);
the queue never blocks a room: ``submit`` only enqueues, updates arrive on the loop.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from genmodels.jobs import Job, Result, Update

log = logging.getLogger(__name__)

Listener = Callable[[Update], None]  # called on the event loop; must not block


class JobQueue(Protocol):
    async def start(self) -> None:
        """Connect and start whatever delivers updates (and, in-process, the workers)."""
        ...

    async def submit(self, job: Job) -> None:
        """Enqueue ``job``; its updates go to the listeners of ``job.room``. A job whose
        id the queue already has is not run twice: a room's new owner asks again for the
        jobs its last owner asked for, to adopt them (`server.rooms.fill_ins`)."""
        ...

    def subscribe(self, room: str, listener: Listener) -> Callable[[], None]:
        """Deliver ``room``'s updates to ``listener`` until the returned callable is called."""
        ...

    async def close(self) -> None:
        """Stop delivering; in-process workers finish or abandon their job."""
        ...


class RoomListeners:
    """The listeners of each room, and the delivery rule both engines share.

    A job's updates end with its one result: once a result for a job has been delivered,
    anything later for that job (a second result from a worker that was presumed dead
    and was not, progress that raced its result) is dropped. The memory of finished
    jobs is bounded (``remember`` of them, oldest forgotten first). A listener that
    raises is logged and does not keep the others from their update.

    A result that comes while its room has no listener (its owner gone, the next one not
    there yet) is kept, the last ``unclaimed`` of them, and handed to the next listener
    of its room as it subscribes: the new owner adopts it (`server.rooms.fill_ins`).
    """

    def __init__(self, remember: int = 4096, unclaimed: int = 256) -> None:
        self._rooms: dict[str, list[Listener]] = {}
        self._finished: OrderedDict[str, None] = OrderedDict()
        self._remember = remember
        self._unclaimed: OrderedDict[str, Result] = OrderedDict()  # job -> its result
        self._keep_unclaimed = unclaimed

    def subscribe(self, room: str, listener: Listener) -> Callable[[], None]:
        self._rooms.setdefault(room, []).append(listener)
        for result in [r for r in self._unclaimed.values() if r.room == room]:
            del self._unclaimed[result.job]
            self._call(listener, result)

        def unsubscribe() -> None:
            listeners = self._rooms.get(room, [])
            if listener in listeners:
                listeners.remove(listener)
            if not listeners:
                self._rooms.pop(room, None)

        return unsubscribe

    def dispatch(self, update: Update) -> None:
        if update.job in self._finished:
            return
        if isinstance(update, Result):
            self._finished[update.job] = None
            if len(self._finished) > self._remember:
                self._finished.popitem(last=False)
        listeners = list(self._rooms.get(update.room, ()))
        if not listeners and isinstance(update, Result):
            self._unclaimed[update.job] = update
            if len(self._unclaimed) > self._keep_unclaimed:
                self._unclaimed.popitem(last=False)
        for listener in listeners:
            self._call(listener, update)

    @staticmethod
    def _call(listener: Listener, update: Update) -> None:
        try:
            listener(update)
        except Exception:
            log.exception("job listener failed on %s for job %s", update.type, update.job)


__all__ = ["JobQueue", "Listener", "RoomListeners"]
