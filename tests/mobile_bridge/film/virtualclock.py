"""A virtual room clock for the reader: time jumps to each packet's due time at once.

`wait(until, wake)` runs the actions scheduled with `at` up to ``until`` (each at its own
time, so a decision lands between two packets exactly as it would in real time), then
sets the clock to ``until``. The film then plays as fast as the CPU allows, and every
run sees the same interleaving of packets and decisions.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable


class VirtualClock:
    def __init__(self, start: float = 0.0) -> None:
        self.t = start
        self._actions: list[tuple[float, int, Callable[[], object]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self.t

    def at(self, t: float, action: Callable[[], object]) -> None:
        heapq.heappush(self._actions, (t, next(self._order), action))

    async def wait(self, until: float, wake: asyncio.Event) -> None:
        while self._actions and self._actions[0][0] <= until and not wake.is_set():
            t, _, action = heapq.heappop(self._actions)
            self.t = max(self.t, t)
            action()
        if not wake.is_set():
            if until == float("inf"):
                await wake.wait()
                return
            self.t = max(self.t, until)
        await asyncio.sleep(0)  # let the peers' tracks run between packets
