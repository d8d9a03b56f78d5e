"""One process of a cluster: the rooms it holds pages of, and the rooms it owns.

A room is **held** here as soon as a page of it connects here (`find`): its `Room`
(pages and film) reads the room's broadcasts, and its items go to the room's inbound
stream. A room is **owned** here when this process holds its lease (`Leases`): it runs
the room's actor, fed from the inbound stream, committing fenced with its epoch and
broadcasting under its lease. A room created here is owned here from the start.

Every third of a lease this process renews the leases it holds, and looks at the rooms
it holds pages of: one whose lease has run out (its owner died, or Redis forgot it) it
tries to take over (`_take_over`): a new epoch above the database's, a claim in the
database that fences the old owner out, the room restored from its snapshot, log and
``in_offset``, and the actor started. Its first broadcast carries the new epoch; every
process seeing it announces its pages again (`Attach` ``resumed``), so phones on the
surviving processes keep their sockets, and the phones that were on a dead process
reconnect, through any process, to the same seat.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from narrative.sources import load_source
from server.cluster.leases import Keys, Leases
from server.cluster.nodes import Heartbeat, beat, node_name
from server.cluster.streams import (
    StreamInlet,
    backlog,
    read_inbound,
    read_outbound,
    stream_end,
    write_items,
)
from server.cluster.wire import WireError, decode_summary, encode_broadcast, encode_summary
from server.persistence import RoomRecord, StaleOwner
from server.rooms.broadcast import Broadcast
from server.rooms.core import RoomCore, Roster, screening_of
from server.rooms.effects import decision_of
from server.rooms.inbox import Attach, Inbound
from server.rooms.registry import Rooms
from server.rooms.room import Lease, NotOwner, Outlet, Room, RoomOwner
from server.stopping import stop_tasks

log = logging.getLogger(__name__)

INBOUND_QUEUE = 50_000  # items waiting for Redis before the sockets are slowed down


@dataclass(slots=True)
class _Owned:
    owner: RoomOwner
    task: asyncio.Task[None]


class ClusterRooms(Rooms):
    """`Rooms` for a process of a cluster (see the module docstring)."""

    @classmethod
    def of(cls, local: Rooms) -> ClusterRooms:
        """The same parts as a single process's ``local`` rooms, as a node of a cluster."""
        settings = local.settings
        assert settings.redis_url is not None, "check_cluster_settings first"
        node = cls(
            store=local.store, committer=local.committer, metrics=local.metrics,
            settings=settings, tokens=local.tokens, gen_queue=local.gen_queue,
        )  # fmt: skip
        node.attach(Redis.from_url(settings.redis_url), node_name())
        return node

    def attach(self, redis: Redis, node: str) -> None:
        settings = self.settings
        self.node = node
        self.metrics.label_node(node)
        self.keys = Keys(settings.cluster_prefix)
        self.redis = redis
        self._leases = Leases(redis, self.keys, node, settings.cluster_lease_s)
        self._owned: dict[str, _Owned] = {}
        self._read_to: dict[str, str] = {}  # owned room -> last inbound entry read
        self._read_from: dict[str, str] = {}  # held room -> last broadcast entry read
        self._inbound: asyncio.Queue[tuple[str, Inbound]] = asyncio.Queue(INBOUND_QUEUE)
        self._lock = asyncio.Lock()  # one room is followed or taken over at a time
        self._background: list[asyncio.Task[None]] = []
        self._rosters: dict[str, Roster] = {}  # the last roster stored, per owned room
        self._started = time.time()
        self.url = settings.public_url or f"http://{settings.host}:{settings.port}"

    @property
    def owned(self) -> tuple[str, ...]:
        return tuple(self._owned)

    def _heartbeat(self) -> Heartbeat:
        sockets: dict[str, int] = {}
        for room in self._rooms.values():
            for page in room.pages:
                sockets[page.role] = sockets.get(page.role, 0) + 1
        return Heartbeat(
            node=self.node, url=self.url, started=self._started, owned=sorted(self._owned),
            held=len(self._rooms), sockets=sockets, at=time.time(),
        )  # fmt: skip

    async def start(self) -> None:
        blocking = [self.redis.client() for _ in range(2)]  # XREAD BLOCK holds its connection
        self._background += [
            asyncio.create_task(write_items(self.redis, self.keys, self._inbound), name="in-w"),
            asyncio.create_task(
                read_inbound(blocking[0], self.keys, self._inbound_offsets, self._to_owner),
                name="in-r",
            ),
            asyncio.create_task(
                read_outbound(blocking[1], self.keys, lambda: self._read_from, self._received),
                name="out-r",
            ),
            asyncio.create_task(self._keep_leases(), name="leases"),
            asyncio.create_task(beat(self.redis, self.keys, self._heartbeat), name="beat"),
        ]

    async def restore(self) -> list[Room]:
        """Nothing to bring back at start-up: a room is held once a page of it arrives, and
        taken over by whoever holds it when its owner is gone."""
        return []

    # -- finding a room -------------------------------------------------------------------

    async def find(self, code: str) -> Room | None:
        room = self._rooms.get(code)
        if room is not None:
            return room
        record = await self.store.room(code)
        if record is None or record.status == "ended":
            return None
        async with self._lock:
            room = self._rooms.get(code) or await self._follow(record)
        if await self._leases.owner(code) is None:
            await self._take_over(room)
        return room

    async def _follow(self, record: RoomRecord) -> Room:
        """Hold a room here: read its broadcasts from now on, send its items to its owner."""
        story_record = await self.store.story(record.story_id)
        assert story_record is not None, "rooms reference stories by foreign key"
        story = load_source(story_record.source, f"story-{story_record.id}")
        stored = await self.redis.get(self.keys.room(record.code, "summary"))
        summary = None
        if stored is not None:
            with contextlib.suppress(WireError, ValueError):
                summary = decode_summary(json.loads(stored))
        if summary is None:  # nobody ran it since Redis started: as the database has it
            summary = RoomCore(
                code=record.code, mode=record.mode,
                story_digest=story_record.digest, screening=screening_of(record, story),
            ).summary()  # fmt: skip
        room = self.view(record, summary)
        room.inlet = StreamInlet(record.code, self._inbound)
        self._read_from[record.code] = await stream_end(
            self.redis, self.keys.room(record.code, "out")
        )
        self._rooms[record.code] = room
        room.cue_playing()
        self.metrics.rooms.set(len(self._rooms))
        log.info("room %s held here", record.code)
        return room

    # -- owning a room --------------------------------------------------------------------

    async def _start(self, record: RoomRecord, core: RoomCore) -> Room:
        """A room created here is owned here from the start."""
        epoch = await self._leases.acquire(record.code, floor=1)
        assert epoch is not None, "a new room's code is nobody's yet"
        await self.store.claim(record.code, epoch)
        async with self._lock:
            room = self._rooms.get(record.code) or await self._follow(record)
        self._own(room, core, Lease(epoch))
        return room

    async def _take_over(self, room: Room) -> None:
        """Become the room's owner, if its lease is free (see the module docstring)."""
        record = await self.store.room(room.code)
        if record is None or record.status == "ended" or room.code in self._owned:
            return
        epoch = await self._leases.acquire(room.code, floor=record.owner_epoch + 1)
        if epoch is None:
            return  # another process was quicker
        try:
            record = await self.store.claim(room.code, epoch)
            story_record = await self.store.story(record.story_id)
            assert story_record is not None
            story = load_source(story_record.source, f"story-{story_record.id}")
            snapshot = await self.store.latest_snapshot(room.code)
            events = await self.store.events_after(room.code, snapshot.seq if snapshot else 0)
            decisions = await self.store.decisions(room.code)
            unread = await backlog(
                self.redis, self.keys.room(room.code, "in"), record.in_offset,
                self.settings.inbox_size,
            )  # fmt: skip
        except StaleOwner:
            await self._leases.release(room.code, epoch)
            return
        core = RoomCore.restore(
            code=record.code, mode=record.mode, story=story, story_digest=story_record.digest,
            screening=screening_of(record, story), show_tally=record.show_tally,
            snapshot=snapshot, events=events,
            last_decision=decision_of(decisions[-1]) if decisions else None,
            absent_until=room.clock.now() + self.settings.cluster_lease_s,
            settings=self._core_settings,
        )  # fmt: skip
        self._own(room, core, Lease(epoch, record.in_offset), unread)
        log.info(
            "room %s taken over at epoch %d (seq %d, %d items unread)",
            room.code, epoch, core.seq, len(unread),
        )  # fmt: skip

    def _own(
        self, room: Room, core: RoomCore, lease: Lease, unread: Sequence[tuple[Inbound, str]] = ()
    ) -> None:
        """Run the room's actor here. ``unread``: the inbound entries the last owner had
        not committed, in its inbox before its first step, so a vote that arrived before
        its window closed counts even when the decision fell due during the takeover
        (the first step takes its items before its tick)."""
        owner = self._owner(room, core, lease=lease, outlet=self._outlet(room.code, lease))
        for item, offset in unread:
            owner.put_nowait(item, offset)
        task = asyncio.create_task(self._run_owner(room, owner), name=f"room-{room.code}")
        self._owned[room.code] = _Owned(owner, task)
        # The inbound reader goes on after what the last owner committed and what is queued.
        self._read_to[room.code] = unread[-1][1] if unread else lease.in_offset

    def _outlet(self, code: str, lease: Lease) -> Outlet:
        async def publish(broadcast: Broadcast) -> bool:
            summary = broadcast.summary
            stored = "" if summary is None else json.dumps(encode_summary(summary))
            try:
                return await self._leases.publish(
                    code, lease.epoch, encode_broadcast(broadcast), stored
                )
            except RedisError as exc:
                log.warning("room %s cannot broadcast (%s): gives up its lease", code, exc)
                return False

        return publish

    async def _run_owner(self, room: Room, owner: RoomOwner) -> None:
        epoch = owner.lease.epoch if owner.lease is not None else 0
        try:
            await owner.run()
        except NotOwner:
            log.warning("room %s has a newer owner than epoch %d: stops here", room.code, epoch)
        except Exception:
            log.exception("room %s failed; its lease is given up for a fresh restore", room.code)
            with contextlib.suppress(RedisError):
                await self._leases.release(room.code, epoch)
        finally:
            if room.owner is owner:
                room.owner = None
            if self._owned.get(room.code) is not None and self._owned[room.code].owner is owner:
                del self._owned[room.code]
                self._read_to.pop(room.code, None)

    # -- every third of a lease ----------------------------------------------------------

    async def _keep_leases(self) -> None:
        every = self.settings.cluster_lease_s / 3
        while True:
            await asyncio.sleep(every)
            try:
                await self._renew()
                for room in list(self._rooms.values()):
                    orphan = room.code not in self._owned and not room.ended
                    if orphan and await self._leases.owner(room.code) is None:
                        await self._take_over(room)
                await self._store_rosters()
            except RedisError as exc:
                log.warning("leases not kept (%s)", exc)

    async def _renew(self) -> None:
        for code, owned in list(self._owned.items()):
            lease = owned.owner.lease
            assert lease is not None
            if not await self._leases.renew(code, lease.epoch):
                log.warning("room %s: lease of epoch %d lost: stops here", code, lease.epoch)
                owned.task.cancel()

    async def _store_rosters(self) -> None:
        """Each owned room's roster, where a host's roster on any process reads it."""
        for code, owned in list(self._owned.items()):
            roster = owned.owner.core.roster()
            if self._rosters.get(code) != roster:
                self._rosters[code] = roster
                text = json.dumps({"online": sorted(roster.online), "voted": sorted(roster.voted)})
                await self.redis.set(self.keys.room(code, "roster"), text)

    async def roster(self, room: Room) -> Roster:
        here = room.roster()
        if here is not None:
            return here
        stored = await self.redis.get(self.keys.room(room.code, "roster"))
        data = json.loads(stored) if stored else {"online": [], "voted": []}
        return Roster(online=frozenset(data["online"]), voted=frozenset(data["voted"]))

    # -- the streams ---------------------------------------------------------------------

    def _inbound_offsets(self) -> dict[str, str]:
        return {code: self._read_to.get(code, "") for code in self._owned}

    async def _to_owner(self, code: str, item: Inbound, offset: str) -> None:
        """An inbound entry into the owner's inbox. Its actor commits the offset once it
        has taken the entry into a step (`Lease.in_offset`): an entry read but not yet
        committed is read again by the next owner if this one dies."""
        owned = self._owned.get(code)
        if owned is None:
            return  # given up meanwhile: the next owner reads it from the stream
        self._read_to[code] = offset
        await owned.owner.put(item, offset)

    def _received(self, code: str, broadcast: Broadcast) -> None:
        room = self._rooms.get(code)
        if room is not None and not room.receive(broadcast):
            for page in room.pages:  # missed broadcasts, or a new owner: announce again
                room.put_nowait(Attach(page.ref, resumed=True))

    async def shutdown(self) -> None:
        """Give up the leases held (peers take the rooms over at once), then stop."""
        owned = list(self._owned.items())
        await stop_tasks(o.task for _, o in owned)
        for code, o in owned:
            lease = o.owner.lease
            if lease is not None:
                with contextlib.suppress(RedisError):
                    await self._leases.release(code, lease.epoch)
        await stop_tasks(self._background)
        await super().shutdown()


__all__ = ["ClusterRooms"]
