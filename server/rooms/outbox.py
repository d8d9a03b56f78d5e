"""A socket's bounded outbox: what a room sends to one page, in order.

Broadcasts are serialised once per room and queued here as text, so 10,000 phones cost
one ``json.dumps`` per message, not 10,000. Live tallies, presence counts and the room's
mood coalesce: a queued one is replaced by a newer one of its kind, since only the
latest matters.
Nothing else is dropped: when a page falls so far behind that ``limit`` messages are
waiting, the outbox is marked overflowed and the socket is closed with ``slow-consumer``
(the page reconnects with its token and gets the current state, its seat and its live
vote back), following the websockets high-water-mark model rather than growing memory
without bound.
"""

from __future__ import annotations

import asyncio
from collections import deque

from server.rooms.audience import Item, Kind

COALESCING: frozenset[Kind] = frozenset({"tally", "presence", "mood"})  # only the latest matters


class Outbox:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: deque[Item] = deque()
        self._ready = asyncio.Event()
        self.overflowed = False
        self.closed = False
        self.close_code = 1000  # what the socket should close with once `get` returns None
        self.close_reason = ""

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: Item) -> bool:
        """Queue ``item``; False when the outbox is closed or has just overflowed."""
        if self.closed or self.overflowed:
            return False
        if item.kind in COALESCING:
            for index, queued in enumerate(self._items):
                if queued.kind == item.kind:
                    del self._items[index]
                    break
        self._items.append(item)
        if len(self._items) > self.limit:
            self.overflowed = True
        self._ready.set()
        return not self.overflowed

    async def get(self) -> Item | None:
        """The next item, waiting for one; None once overflowed, or closed and drained."""
        while not self._items:
            if self.closed or self.overflowed:
                return None
            self._ready.clear()
            await self._ready.wait()
        if self.overflowed:
            return None
        return self._items.popleft()

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Stop after what is queued; the socket closes with ``code`` and ``reason``."""
        if not self.closed:
            self.closed = True
            self.close_code, self.close_reason = code, reason
        self._ready.set()


__all__ = ["COALESCING", "Item", "Kind", "Outbox"]
