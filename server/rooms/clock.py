"""The room clock: seconds since the room's epoch, steady in a process, continuous across restarts.

Wall-clock time anchors it (the epoch is stored with the room, so a restarted server
picks up where the film is); the monotonic clock drives it, so an NTP step of the wall
clock while the room runs cannot make the film jump. Tests inject their own callables.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class RoomClock:
    def __init__(
        self,
        epoch: float,
        *,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._monotonic = monotonic
        self._offset = wall() - monotonic() - epoch

    def now(self) -> float:
        return self._monotonic() + self._offset


__all__ = ["RoomClock"]
