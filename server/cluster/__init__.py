"""Scale-out over Redis: one room served by many server processes and machines.

Without ``KINOROOM_REDIS_URL`` nothing here runs: a single process owns every room it
holds. With it, every ``kinoroom serve`` sharing that Redis, a PostgreSQL database and a
secret is one Kinoroom (DESIGN.md, "Scale: one process by default, Redis when outgrown"):

- a room has one **owner** process, which holds a Redis lease with a fencing epoch and
  runs the room's actor (`server.rooms.room.RoomOwner`); every write it commits is fenced
  with that epoch in the database, and it broadcasts only while Redis still names it;
- every process validates what its sockets receive and appends it to the room's
  **inbound stream**; the owner reads it, and commits how far it read with each batch, so
  the next owner reads on from there and no vote in flight is lost;
- the owner **broadcasts** each step once per room on the room's outbound stream; every
  process with pages in the room delivers it to its own; a gap in the numbering has the
  process's pages welcomed again from the room as it is;
- when an owner dies its lease runs out and a process with pages in the room takes it
  over, restores the room from the database and reads on.

Must not be imported by the room core or the narrative; imports Redis, the rooms and the
persistence.
"""
