"""A room in this process: its pages (`Room`), and, where this process owns it, its actor
(`RoomOwner`): collect → step the core → commit → broadcast.

Everything the room decides is its `RoomCore`'s (`server.rooms.core`, pure); the actor
only moves items, time and bytes. Sockets put `Attach`, `Detach` and `Incoming` items
(the camera analysis `Sensed` ones) into the room (`Room.put`); they reach the owner's
bounded inbox (a full inbox makes the `put` wait: backpressure on the sockets, not
memory growth), directly in a single process, or through the room's inbound stream in a
cluster (`server.cluster`). The actor loops:

1. **collect** everything queued, or wait until the screening's next due instant (at
   most ``tick_interval_s``); a fill-in result is judged by the room's `FillIns` here;
2. **step** the core with the room clock's time;
3. **commit** the step's records through the group committer (in a cluster, fenced with
   the owner's epoch and how far it read the inbound stream), and only then
4. **broadcast** what the step sends (a `Broadcast`, with the live messages now due):
   every process holding pages of the room delivers it to them (`Room.receive`) and
   cues its film with it.

So an acked vote is never lost and a decision is persisted before it is broadcast
(DESIGN.md, "How one vote flows"), and an owner that lost its lease neither commits nor
broadcasts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from narrative.events import (
    Decide,
    Ended,
    EventRejected,
    StoryFault,
    VoteAccepted,
    VoteRejected,
)
from narrative.ids import DeviceId
from server.logs import room_var
from server.metrics import Metrics
from server.persistence import Batch, Fence, RoomRecord, StaleOwner
from server.rooms.broadcast import Broadcast
from server.rooms.clock import RoomClock
from server.rooms.committer import Committer
from server.rooms.core import RoomCore, RoomSummary, Roster, Step
from server.rooms.delivery import Delivery
from server.rooms.fill_ins import FillIns, JobView
from server.rooms.film_cues import Cut, FilmCues, FilmOrder, play
from server.rooms.inbox import Attach, CoreItem, Detach, Generated, Inbound, Incoming
from server.rooms.page import Page
from server.settings import Settings

if TYPE_CHECKING:
    from aiortc import MediaStreamTrack

    from mobile_bridge.film import Film

log = logging.getLogger(__name__)

MAX_ITEMS_PER_STEP = 5_000
DETACH_TIMEOUT_S = 5.0  # how long a closing socket waits for room in the inbox

Outlet = Callable[[Broadcast], Awaitable[bool]]  # how the owner broadcasts (False: not owner)


class Inlet(Protocol):
    """Where this process's items for a room go: its owner's inbox, here or elsewhere."""

    async def put(self, item: Inbound) -> None:
        """Queue ``item``, waiting while the way is full (backpressure on the socket)."""
        ...

    def put_nowait(self, item: Inbound) -> None:
        """Queue ``item`` now, or drop it when the way is full (samples, job results)."""
        ...


@dataclass(slots=True)
class Lease:
    """The owner's standing in a cluster: its fencing epoch, and how far it has read the
    room's inbound stream (committed with every batch, `Fence`)."""

    epoch: int
    in_offset: str = ""


class NotOwner(Exception):
    """The actor found it no longer owns its room (its lease or its epoch was superseded)."""


class Room:
    """What this process holds of a room: its pages, its film, the room's latest summary,
    and (`owner`) the room's actor when this process owns it."""

    def __init__(
        self,
        *,
        record: RoomRecord,
        clock: RoomClock,
        metrics: Metrics,
        summary: RoomSummary,
        open_film: Callable[[], Film] | None = None,
    ) -> None:
        self.code = record.code
        self.record = record  # the room's settings as created: frozen
        self.clock = clock
        # The film this process's pages receive, opened on first use: a room waiting for
        # its host needs none yet, and opening one loads aiortc and PyAV.
        self._open_film = open_film
        self._film: Film | None = None
        self.pages = Delivery(metrics)
        self.owner: RoomOwner | None = None  # the actor, where this process owns the room
        self.inlet: Inlet | None = None  # set by whoever places the room (`Rooms`, a node)
        self._summary = summary
        self._n = (0, 0)  # (epoch, number) of the last broadcast received

    @property
    def summary(self) -> RoomSummary:
        """The room after its last step (`RoomSummary`): what routes read."""
        return self.owner.core.summary() if self.owner is not None else self._summary

    @property
    def ended(self) -> bool:
        return self.summary.ended

    def roster(self) -> Roster | None:
        """Who is here and who voted (None where another process owns the room)."""
        return self.owner.core.roster() if self.owner is not None else None

    def has_phone(self, device: DeviceId) -> bool:
        """Whether a page of ``device`` is connected to this process."""
        return self.pages.holds(device)

    def fill_in_board(self) -> list[JobView]:
        """The room's latest fill-in jobs, newest first (none without a queue here)."""
        owner = self.owner
        return [] if owner is None or owner.fill_ins is None else owner.fill_ins.board()

    @property
    def film(self) -> Film | None:
        """The room's film here, opened now if it was not (None: this room plays none)."""
        if self._film is None and self._open_film is not None:
            self._film = self._open_film()
        return self._film

    @property
    def film_epoch(self) -> float | None:
        """The room-clock instant the film's RTP timestamps count from (None: no film yet)."""
        return self._film.timeline.origin if self._film is not None else None

    def film_tracks(self, rendition: str) -> tuple[MediaStreamTrack, ...]:
        """A new subscription to the film at ``rendition`` (none when it has no film)."""
        film = self.film
        return () if film is None else film.subscribe(rendition)

    async def close_film(self) -> None:
        if self._film is not None:
            await self._film.close()

    # -- the sockets' side ------------------------------------------------------------

    async def connect(self, page: Page) -> None:
        """Take a page in: its ``welcome`` comes with the room's next step."""
        self.pages.connected(page)
        await self.put(Attach(page.ref))

    async def disconnect(self, page: Page) -> None:
        self.pages.gone(page)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(DETACH_TIMEOUT_S):
                await self.put(Detach(page.ref))

    async def put(self, item: Inbound) -> None:
        """Hand an item to the room's owner, wherever it runs."""
        assert self.inlet is not None, "a placed room has an inlet"
        await self.inlet.put(item)

    def put_nowait(self, item: Inbound) -> None:
        """Hand an item to the room's owner now, or drop it when the way is full."""
        assert self.inlet is not None, "a placed room has an inlet"
        self.inlet.put_nowait(item)

    # -- the owner's side ---------------------------------------------------------------

    def receive(self, broadcast: Broadcast) -> bool:
        """Deliver a broadcast to this process's pages and cue the film with it.

        Returns:
            False when broadcasts were missed (a gap in the owner's numbering): this
            process's pages then need the room as it is now (`Attach` ``resumed``).
        """
        epoch, n = self._n
        in_order = broadcast.epoch != epoch or broadcast.n == n + 1
        self._n = (broadcast.epoch, broadcast.n)
        self.pages.attached(broadcast.attached)
        self.pages.detached(broadcast.detached)
        self.pages.deliver(broadcast.sends)
        if broadcast.film and (film := self.film) is not None:
            play(film, broadcast.film)
        if broadcast.summary is not None:
            self._summary = broadcast.summary
        return in_order

    def cue_playing(self) -> None:
        """Cut the film to what plays now (a room held here from mid-scene on)."""
        playing = self.summary.playing
        if playing is not None and (film := self.film) is not None:
            play(film, [Cut(playing.media, playing.starts_at)])


class RoomOwner:
    """The room's actor: the only owner of its `RoomCore` (see the module docstring)."""

    def __init__(
        self,
        core: RoomCore,
        *,
        clock: RoomClock,
        committer: Committer,
        metrics: Metrics,
        settings: Settings,
        outlet: Outlet,
        lease: Lease | None = None,
    ) -> None:
        self.core = core
        self.code = core.code
        self.clock = clock
        self.fill_ins: FillIns | None = None  # its generated scenes' jobs, if it has a queue
        self.film = FilmCues(core.screening.story)  # the film's orders, for every process
        self._orders: list[FilmOrder] = []  # orders for the next broadcast
        self.inbox: asyncio.Queue[tuple[Inbound, str]] = asyncio.Queue(settings.inbox_size)
        self.lease = lease  # None in a single process: no fence
        self.failures = 0  # times this room crashed and was restored (see `Rooms`)
        self._committer = committer
        self._metrics = metrics
        self._settings = settings
        self._outlet = outlet
        self._n = 0
        self._summary: RoomSummary | None = None  # the last one broadcast

    async def put(self, item: Inbound, offset: str = "") -> None:
        """Queue an item (``offset``: its inbound stream entry, in a cluster)."""
        await self.inbox.put((item, offset))

    def put_nowait(self, item: Inbound, offset: str = "") -> None:
        """Queue an item now, or drop it when the inbox is full (fill-in results, samples)."""
        try:
            self.inbox.put_nowait((item, offset))
        except asyncio.QueueFull:
            log.warning("inbox full: %s dropped", type(item).__name__)

    async def run(self) -> None:
        """Run until cancelled.

        Raises:
            NotOwner: the room has a newer owner (`StaleOwner` from the database, or an
                outlet that refused to broadcast).
        """
        room_var.set(self.code)
        screening = self.core.screening
        log.info("room running: %s (%s)", self.core.story.title, screening.phase.value)
        if (playing := screening.now_playing) is not None:  # restored mid-scene
            self._orders = self.film.feed(playing)
            if self.fill_ins is not None:
                self.fill_ins.resume(screening)
        try:
            while True:
                await self._step(await self._collect())
        finally:
            log.info("room stopped")  # its pages are told by `Rooms` (restart or shutdown)
            if self.fill_ins is not None:
                await self.fill_ins.close()

    async def _collect(self) -> list[Inbound]:
        timeout = self._settings.tick_interval_s
        due = self.core.next_due()
        if due is not None:
            timeout = min(timeout, max(0.0, due - self.clock.now()))
        entries: list[tuple[Inbound, str]] = []
        try:
            async with asyncio.timeout(timeout):
                entries.append(await self.inbox.get())
        except TimeoutError:
            pass
        while len(entries) < MAX_ITEMS_PER_STEP and not self.inbox.empty():
            entries.append(self.inbox.get_nowait())
        if self.lease is not None:
            offsets = [offset for _, offset in entries if offset]
            if offsets:
                self.lease.in_offset = offsets[-1]
        return [item for item, _ in entries]

    async def _step(self, items: list[Inbound]) -> None:
        step = self.core.step(self._judged(items), self.clock.now())
        if step.parts:
            parts = step.parts
            if self.lease is not None:
                parts = [*parts, Fence(self.code, self.lease.epoch, self.lease.in_offset)]
            try:
                await self._committer.commit(Batch.from_parts(parts))
            except StaleOwner as exc:
                raise NotOwner(self.code) from exc
        summary = self.core.summary()
        changed, self._summary = summary != self._summary, summary
        sends = (*step.sends, *self.core.live(self.clock.now()))
        film, self._orders = self._orders, []
        for command in step.commands:
            film.extend(self.film.feed(command))
        # A step that tells nobody anything is not broadcast (an idle room ticks ten times
        # a second), but for an owner's first: it says which epoch rules the room now.
        if sends or film or step.attached or step.detached or changed or self._n == 0:
            self._n += 1
            broadcast = Broadcast(
                epoch=self.lease.epoch if self.lease is not None else 0,
                n=self._n,
                sends=sends,
                film=tuple(film),
                attached=tuple(step.attached),
                detached=tuple(step.detached),
                summary=summary if changed else None,
            )
            if not await self._outlet(broadcast):
                raise NotOwner(self.code)
        self._acked(items)
        self._count(step)

    def _judged(self, items: list[Inbound]) -> Iterable[CoreItem]:
        for item in items:
            if isinstance(item, Generated):
                if self.fill_ins is not None:  # only its queue puts `Generated` here
                    yield self.fill_ins.accept(item)
            else:
                yield item

    def _acked(self, items: list[Inbound]) -> None:
        """Vote arrival to ack (or refusal) leaving the room, for each vote."""
        now = self.clock.now()
        for item in items:
            if isinstance(item, Incoming) and item.message.type == "vote":
                self._metrics.vote_ack_seconds.observe(max(0.0, now - item.received_at))

    def _count(self, step: Step) -> None:
        """The fill-in jobs follow the screening; metrics count, logs tell."""
        for command in step.commands:
            if self.fill_ins is not None:
                self.fill_ins.feed(command)
            match command:
                case VoteAccepted():
                    self._metrics.votes.labels("accepted").inc()
                case VoteRejected(code=code):
                    self._metrics.votes.labels(code).inc()
                case Decide():
                    self._metrics.decisions.labels(command.policy).inc()
                    log.info("decided %s: %s (%s)", command.choice, command.option,
                             command.reason)  # fmt: skip
                case EventRejected():
                    log.warning("event refused: %s %s", command.event, command.code)
                case StoryFault():
                    log.warning("story fault in %s: %s", command.scene, command.message)
                case Ended():
                    log.info("screening ended (%s)", command.reason)


__all__ = ["Inlet", "Lease", "NotOwner", "Outlet", "Room", "RoomOwner"]
