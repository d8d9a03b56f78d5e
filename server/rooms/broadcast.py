"""What a room's owner sends every process that holds pages of the room, after each step.

One value per step: the sends (addressed by page, device or role, never by socket), the
film's orders (`server.rooms.film_cues`), which pages the core took in or let go, and
the room's summary when it changed. In one process the owner hands it to its `Room` directly; in a
cluster it goes out once per room over Redis (`server.cluster`) and every process
delivers it to its own pages. Broadcasts are numbered per owner epoch: a process that
sees a gap missed one and has its pages welcomed again from the room as it is now.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.rooms.audience import PageKey, Send
from server.rooms.core import RoomSummary
from server.rooms.film_cues import FilmOrder


@dataclass(frozen=True, slots=True)
class Broadcast:
    epoch: int  # the owner's fencing epoch (0 in a single process)
    n: int  # this broadcast's number in the epoch, from 1
    sends: tuple[Send, ...] = ()
    film: tuple[FilmOrder, ...] = ()
    attached: tuple[PageKey, ...] = ()
    detached: tuple[PageKey, ...] = ()
    summary: RoomSummary | None = None  # the room after the step, when it changed


__all__ = ["Broadcast"]
