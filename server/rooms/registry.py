"""Every room this process runs: created, restored after a restart, found, stopped.

Restoring a room rebuilds its screening from the latest snapshot plus the events logged
after it (the same commands come out again and are dropped: they were persisted and
sent before the crash), and its room clock from the stored epoch, so the film goes on
where it is now, not where it was when the server died. Phones that were present get a
`Leave` (their sockets died with the process); they `Join` again as they reconnect.
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
from mobile_bridge.protocol import DecisionMessage as DecisionView
from narrative.consensus import Turnout
from narrative.events import Decide, event_from_json
from narrative.explore_history import ArmTracker
from narrative.ids import ChoiceId, DeviceId, OptionId, SceneId
from narrative.policies import policy_from_spec
from narrative.screening import Screening
from narrative.story import Story
from narrative.validate import load_story
from server.metrics import Metrics
from server.persistence import (
    DecisionRecord,
    RoomExists,
    RoomRecord,
    SeatRecord,
    Store,
    StoryRecord,
)
from server.persistence.records import RoomMode
from server.roomcode import new_code
from server.rooms.clock import RoomClock
from server.rooms.committer import Committer
from server.rooms.fill_ins import FillIns
from server.rooms.film_cues import FilmCues, open_film
from server.rooms.inbox import Inbound
from server.rooms.outbox import Item
from server.rooms.room import Room
from server.rooms.views import decision_view
from server.settings import Settings
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
        self._gen_queue = gen_queue  # where generated scenes' jobs go (None: fallbacks only)
        self._committer = committer
        self._metrics = metrics
        self._settings = settings
        self._tokens = tokens
        self._rooms: dict[str, Room] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def get(self, code: str) -> Room | None:
        return self._rooms.get(code)

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
        model = load_story(story.source, f"story-{story.id}")
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
            )
            try:
                await self.store.create_room(record)
                break
            except RoomExists:
                continue  # 1 in 600 million per live room: try another code
        host = await self.seat(record.code, "host", "host")
        room = self._start(
            record, model, story.digest, Screening(model, policy_from_spec(spec), record.seed)
        )
        log.info("room %s created for %r (%s)", record.code, model.title, policy)
        return room, host

    async def seat(self, code: str, nickname: str, role: Role) -> Seat:
        device = f"{role[0]}-{secrets.token_hex(6)}"
        await self.store.add_seat(
            SeatRecord(device_id=device, room_code=code, nickname=nickname, role=role)
        )
        token = self._tokens.issue(Claims(code, device, role))
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
        story = load_story(story_record.source, f"story-{story_record.id}")
        snapshot = await self.store.latest_snapshot(record.code)
        tracker = ArmTracker()
        if snapshot is None:
            screening = Screening(story, policy_from_spec(record.policy), record.seed)
            after = 0
        else:
            screening = Screening.restore(story, snapshot.data["screening"])  # type: ignore[arg-type]
            tracker = ArmTracker.from_json(snapshot.data["tracker"])  # type: ignore[arg-type]
            after = snapshot.seq
        events = await self.store.events_after(record.code, after)
        for entry in events:
            if entry.payload.get("type") == "AffectSample":
                continue  # a phone's numbers, logged before rooms kept them in memory only
            for command in screening.handle(event_from_json(entry.payload)):
                tracker.feed(command)  # rewards were persisted with the event
        last_seq = events[-1].seq if events else after
        decisions = await self.store.decisions(record.code)
        last = decision_view(story, _decide(decisions[-1])) if decisions else None
        room = self._start(
            record, story, story_record.digest, screening, tracker=tracker, last_seq=last_seq,
            last_snapshot_seq=after, last_decision=last,
        )  # fmt: skip
        log.info("room %s restored at seq %d (%s)", record.code, last_seq, screening.phase.value)
        return room

    def _start(
        self,
        record: RoomRecord,
        story: Story,
        digest: str,
        screening: Screening,
        *,
        tracker: ArmTracker | None = None,
        last_seq: int = 0,
        last_snapshot_seq: int = 0,
        last_decision: DecisionView | None = None,
    ) -> Room:
        clock = RoomClock(record.epoch)
        film = partial(open_film, clock.now, self._settings.resolved_media_dir())
        room = Room(
            record=record,
            story=story,
            story_digest=digest,
            screening=screening,
            tracker=tracker or ArmTracker(),
            last_seq=last_seq,
            last_snapshot_seq=last_snapshot_seq,
            last_decision=last_decision,
            clock=clock,
            committer=self._committer,
            metrics=self._metrics,
            settings=self._settings,
            absent=tuple(DeviceId(d) for d in screening.devices),
            film=FilmCues(story, film),
        )
        if self._gen_queue is not None and any(s.generate for s in story.scenes.values()):
            room.fill_ins = FillIns(
                code=record.code,
                story=story,
                queue=self._gen_queue,
                room_clock=clock.now,
                deliver=partial(_put, room.inbox),
                seed=record.seed,
                margin_s=self._settings.gen_margin_s,
            )
        self._rooms[record.code] = room
        task = asyncio.create_task(self._supervise(room), name=f"room-{record.code}")
        self._tasks[record.code] = task
        self._metrics.rooms.set(len(self._rooms))
        return room

    async def _supervise(self, room: Room) -> None:
        """Run a room; if it fails, send its pages away to reconnect and bring it back.

        Everything a room acknowledged is in the database, so a room that crashed (a
        failed commit, a bug) is restored exactly like after a server restart.
        """
        try:
            await room.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("room %s failed; restoring it from the database", room.code)
            bye = Item("message", dump(Bye(reason="room restarting", reconnect=True)))
            for page in tuple(room.pages):
                page.outbox.put(bye)
                page.outbox.close(CloseCode.RESTART, "room restarting")
            self._rooms.pop(room.code, None)
            self._tasks.pop(room.code, None)
            room.failures += 1
            if room.failures > MAX_RESTARTS:
                log.error("room %s failed %d times; left stopped", room.code, room.failures)
                return
            record = await self.store.room(room.code)
            if record is not None:
                restored = await self._restore(record)
                restored.failures = room.failures

    async def shutdown(self) -> None:
        """Tell every page to come back later, stop every room (its state is already durable)."""
        bye = Item("message", dump(Bye(reason="server restarting", reconnect=True)))
        for room in self._rooms.values():
            for page in tuple(room.pages):
                page.outbox.put(bye)
                page.outbox.close(CloseCode.RESTART, "server restarting")
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()
        self._rooms.clear()
        self._metrics.rooms.set(0)


def _put(inbox: asyncio.Queue[Inbound], item: Inbound) -> None:
    try:
        inbox.put_nowait(item)
    except asyncio.QueueFull:  # the room is swamped: the scene plays its fallback
        log.warning("inbox full: %s dropped", type(item).__name__)


def _decide(record: DecisionRecord) -> Decide:
    """The stored decision as the command that made it, so one view function serves both."""
    tally = tuple((OptionId(o), score) for o, score in record.tally)
    turnout = Turnout(record.voted, record.present)
    return Decide(
        ChoiceId(record.choice), OptionId(record.option), SceneId(record.goto), tally,
        record.policy, record.reason, turnout, record.at,
    )  # fmt: skip


__all__ = ["Rooms", "Seat"]
