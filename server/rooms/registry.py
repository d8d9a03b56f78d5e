"""Every room this process runs: created, restored after a restart, found, stopped.

Restoring a room reads its latest snapshot, the events logged after it and its last
decision, and lets the room core replay them (`RoomCore.restore`); its room clock comes
from the stored epoch, so the film goes on where it is now, not where it was when the
server died.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

from genmodels.queue import JobQueue
from mobile_bridge.protocol import Bye, CloseCode, dump
from narrative.policies import policy_from_spec
from narrative.sources import load_source
from server.metrics import Metrics
from server.persistence import (
    RoomExists,
    RoomRecord,
    SeatRecord,
    Store,
    StoryRecord,
)
from server.persistence.records import RoomMode
from server.roomcode import new_code
from server.rooms.audience import Item
from server.rooms.broadcast import Broadcast
from server.rooms.clock import RoomClock
from server.rooms.committer import Committer
from server.rooms.core import CoreSettings, RoomCore, RoomSummary, Roster, screening_of
from server.rooms.effects import decision_of
from server.rooms.fill_ins import FillIns
from server.rooms.film_cues import open_film
from server.rooms.room import Lease, Outlet, Room, RoomOwner
from server.settings import Settings
from server.stopping import stop_tasks
from server.tokens import Claims, Role, Tokens

log = logging.getLogger(__name__)

MAX_RESTARTS = 3  # a room that keeps failing stays down rather than looping


@dataclass(frozen=True, slots=True)
class Seat:
    room: str
    device: str
    role: Role
    token: str


class Rooms:
    def __init__(
        self,
        *,
        store: Store,
        committer: Committer,
        metrics: Metrics,
        settings: Settings,
        tokens: Tokens,
        gen_queue: JobQueue | None = None,
    ) -> None:
        self.store = store
        self.gen_queue = gen_queue  # where generated scenes' jobs go (None: fallbacks only)
        self.committer = committer
        self.metrics = metrics
        self.settings = settings
        self.tokens = tokens
        self._core_settings = CoreSettings(settings.snapshot_every, settings.tally_interval_s)
        self._rooms: dict[str, Room] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def get(self, code: str) -> Room | None:
        """The room with this code, if this process holds it."""
        return self._rooms.get(code)

    async def find(self, code: str) -> Room | None:
        """The room with this code, wherever it runs (a single process holds them all)."""
        return self._rooms.get(code)

    async def roster(self, room: Room) -> Roster:
        """Who is in ``room`` and who voted (its owner runs here)."""
        roster = room.roster()
        assert roster is not None, "a single process owns every room it holds"
        return roster

    def __iter__(self) -> Iterator[Room]:
        return iter(tuple(self._rooms.values()))

    async def create(
        self,
        *,
        story: StoryRecord,
        policy: str,
        policy_params: dict[str, object] | None = None,
        mode: RoomMode = "phones-play",
        seed: int | None = None,
    ) -> tuple[Room, Seat]:
        """Open a room for ``story`` and seat its host.

        Raises:
            PolicyError: unknown policy or bad parameters.
            StoryError: the stored story no longer validates.
        """
        model = load_source(story.source, f"story-{story.id}")  # a graph or an ink program
        spec: dict[str, object] = {"name": policy, **(policy_params or {})}
        if policy == "explore" and "history" not in spec:
            # What earlier screenings of this story learned, frozen for this room so that
            # a restart replays the same decisions.
            spec["history"] = await self.store.arm_history(story.digest)
        spec = policy_from_spec(spec).spec()
        while True:
            record = RoomRecord(
                code=new_code(),
                story_id=story.id,
                policy=spec,
                mode=mode,
                seed=seed if seed is not None else secrets.randbelow(2**31),
                status="waiting",
                epoch=time.time(),
                show_tally=mode == "big-screen",
                vote_grace_s=self.settings.vote_grace_s,
            )
            try:
                await self.store.create_room(record)
                break
            except RoomExists:
                continue  # 1 in 600 million per live room: try another code
        host = await self.seat(record.code, "host", "host")
        core = RoomCore(
            code=record.code, mode=record.mode, story_digest=story.digest,
            screening=screening_of(record, model), show_tally=record.show_tally,
            settings=self._core_settings,
        )  # fmt: skip
        room = await self._start(record, core)
        log.info("room %s created for %r (%s)", record.code, model.title, policy)
        return room, host

    async def seat(self, code: str, nickname: str, role: Role) -> Seat:
        device = f"{role[0]}-{secrets.token_hex(6)}"
        await self.store.add_seat(
            SeatRecord(device_id=device, room_code=code, nickname=nickname, role=role)
        )
        token = self.tokens.issue(Claims(code, device, role))
        return Seat(code, device, role, token)

    async def restore(self) -> list[Room]:
        """Bring back every unfinished room from the database."""
        restored = []
        for record in await self.store.unfinished_rooms():
            if record.code in self._rooms:
                continue
            try:
                restored.append(await self._restore(record))
            except Exception:
                log.exception("room %s could not be restored", record.code)
        return restored

    async def _restore(self, record: RoomRecord) -> Room:
        story_record = await self.store.story(record.story_id)
        assert story_record is not None, "rooms reference stories by foreign key"
        story = load_source(story_record.source, f"story-{story_record.id}")
        snapshot = await self.store.latest_snapshot(record.code)
        events = await self.store.events_after(record.code, snapshot.seq if snapshot else 0)
        decisions = await self.store.decisions(record.code)
        core = RoomCore.restore(
            code=record.code, mode=record.mode, story=story, story_digest=story_record.digest,
            screening=screening_of(record, story), show_tally=record.show_tally,
            snapshot=snapshot, events=events,
            last_decision=decision_of(decisions[-1]) if decisions else None,
            settings=self._core_settings,
        )  # fmt: skip
        room = await self._start(record, core)
        phase = core.screening.phase.value
        log.info("room %s restored at seq %d (%s)", record.code, core.seq, phase)
        return room

    async def _start(self, record: RoomRecord, core: RoomCore) -> Room:
        """Run ``core`` here: its pages, its film and its actor, in this process."""
        room = self.view(record, core.summary())
        owner = self._owner(room, core, lease=None, outlet=_deliver_to(room))
        room.inlet = owner
        self._rooms[record.code] = room
        task = asyncio.create_task(self._supervise(room, owner), name=f"room-{record.code}")
        self._tasks[record.code] = task
        self.metrics.rooms.set(len(self._rooms))
        return room

    def view(self, record: RoomRecord, summary: RoomSummary) -> Room:
        """What this process holds of a room: its pages and its film (opened on first use)."""
        clock = RoomClock(record.epoch)
        film = partial(open_film, clock.now, self.settings.resolved_media_dir())
        return Room(
            record=record, clock=clock, metrics=self.metrics, summary=summary, open_film=film
        )

    def _owner(
        self, room: Room, core: RoomCore, *, lease: Lease | None, outlet: Outlet
    ) -> RoomOwner:
        """The room's actor, with its fill-in jobs when its story has generated scenes."""
        owner = RoomOwner(
            core, clock=room.clock, committer=self.committer, metrics=self.metrics,
            settings=self.settings, outlet=outlet, lease=lease,
        )  # fmt: skip
        room.owner = owner
        if self.gen_queue is not None and any(s.generate for s in core.story.scenes.values()):
            owner.fill_ins = FillIns(
                code=room.code,
                story=core.screening.story,
                queue=self.gen_queue,
                room_clock=room.clock.now,
                deliver=owner.put_nowait,
                seed=room.record.seed,
                epoch=room.record.epoch,
                margin_s=self.settings.gen_margin_s,
            )
        room.cue_playing()  # restored mid-scene: the film goes on from here
        return owner

    async def _supervise(self, room: Room, owner: RoomOwner) -> None:
        """Run a room; if it fails, send its pages away to reconnect and bring it back.

        Everything a room acknowledged is in the database, so a room that crashed (a
        failed commit, a bug) is restored exactly like after a server restart.
        """
        try:
            await owner.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("room %s failed; restoring it from the database", room.code)
            bye = Item("message", dump(Bye(reason="room restarting", reconnect=True)))
            for page in room.pages:
                page.outbox.put(bye)
                page.outbox.close(CloseCode.RESTART, "room restarting")
            self._rooms.pop(room.code, None)
            self._tasks.pop(room.code, None)
            await _close_film(room)
            owner.failures += 1
            if owner.failures > MAX_RESTARTS:
                log.error("room %s failed %d times; left stopped", room.code, owner.failures)
                return
            record = await self.store.room(room.code)
            if record is not None:
                restored = await self._restore(record)
                assert restored.owner is not None
                restored.owner.failures = owner.failures

    async def shutdown(self) -> None:
        """Tell every page to come back later, stop every room (its state is already durable)."""
        bye = Item("message", dump(Bye(reason="server restarting", reconnect=True)))
        for room in self._rooms.values():
            for page in room.pages:
                page.outbox.put(bye)
                page.outbox.close(CloseCode.RESTART, "server restarting")
        await stop_tasks(self._tasks.values())
        for room in self._rooms.values():
            await _close_film(room)
        self._tasks.clear()
        self._rooms.clear()
        self.metrics.rooms.set(0)


def _deliver_to(room: Room) -> Outlet:
    """A single process's outlet: the owner's broadcast goes straight to the room's pages."""

    async def deliver(broadcast: Broadcast) -> bool:
        room.receive(broadcast)
        return True

    return deliver


async def _close_film(room: Room) -> None:
    await room.close_film()


__all__ = ["Rooms", "Seat"]
