"""What can go wrong when the store writes.

::

    PersistenceError            code "persistence"
    ├── RoomExists              code "room-exists": the room code is taken
    ├── StaleOwner              code "stale-owner": a room's owner of an older epoch tried
    │                           to write (it lost its lease); nothing was written
    └── WriteRejected           code "write-rejected": the database refused a write
                                (a duplicate event seq, an unknown room or story);
                                nothing of that call was written

A lost connection or a full disk is not translated: SQLAlchemy's own errors pass through,
because the caller cannot do anything more specific about them than about any other
internal error.
"""

from __future__ import annotations


class PersistenceError(Exception):
    code = "persistence"


class RoomExists(PersistenceError):
    code = "room-exists"

    def __init__(self, room: str) -> None:
        self.room = room
        super().__init__(f"room code {room!r} is already taken")


class StaleOwner(PersistenceError):
    code = "stale-owner"

    def __init__(self, room: str, epoch: int) -> None:
        self.room = room
        self.epoch = epoch
        super().__init__(f"room {room!r} has an owner newer than epoch {epoch}")


class WriteRejected(PersistenceError):
    code = "write-rejected"

    def __init__(self, operation: str, detail: str, *, room: str | None = None) -> None:
        self.operation = operation
        self.detail = detail
        self.room = room
        where = f" for room {room!r}" if room is not None else ""
        super().__init__(f"{operation}{where} rejected by the database: {detail}")
