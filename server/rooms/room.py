"""The Room actor: one asyncio task per room, collect → commit → deliver.

Everything the room decides is its `RoomCore`'s (`server.rooms.core`, pure); this shell
only moves items, time and bytes. Sockets put `Attach`, `Detach` and `Incoming` items
(the camera analysis `Sensed` ones, fill-in jobs `Generated` ones) into the room's bounded
inbox (a full inbox makes their `put` wait: backpressure on the sockets, not memory
growth). The task loops:

1. **collect** everything queued, or wait until the screening's next due instant (at
   most ``tick_interval_s``); a fill-in result is judged by the room's `FillIns` here;
2. **step** the core with the room clock's time;
3. **commit** the step's records through the group committer, and only then
4. **deliver** its sends to the pages this process holds (`Delivery`), cue the film and
   the fill-in jobs with its commands, count and log them; then the coalesced live
   messages that are due.

So an acked vote is never lost and a decision is persisted before it is broadcast
(DESIGN.md, "How one vote flows").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from aiortc import MediaStreamTrack

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
from server.persistence import Batch, RoomRecord
from server.rooms.clock import RoomClock
from server.rooms.committer import Committer
from server.rooms.core import RoomCore, RoomSummary, Step
from server.rooms.delivery import Delivery
from server.rooms.fill_ins import FillIns, JobView
from server.rooms.film_cues import FilmCues
from server.rooms.inbox import Attach, CoreItem, Detach, Generated, Inbound, Incoming
from server.rooms.page import Page
from server.settings import Settings

log = logging.getLogger(__name__)

MAX_ITEMS_PER_STEP = 5_000
DETACH_TIMEOUT_S = 5.0  # how long a closing socket waits for room in the inbox


class Room:
    def __init__(
        self,
        core: RoomCore,
        *,
        record: RoomRecord,
        clock: RoomClock,
        committer: Committer,
        metrics: Metrics,
        settings: Settings,
        film: FilmCues | None = None,
    ) -> None:
        self.core = core
        self.code = core.code
        self.record = record  # the room's settings as created: frozen
        self.clock = clock
        self.film = film  # the film this room's pages receive, if it has one
        self.fill_ins: FillIns | None = None  # its generated scenes' jobs, if it has a queue
        self.failures = 0  # times this room crashed and was restored (see `Rooms`)
        self.inbox: asyncio.Queue[Inbound] = asyncio.Queue(settings.inbox_size)
        self.pages = Delivery(metrics)
        self._committer = committer
        self._metrics = metrics
        self._settings = settings

    @property
    def summary(self) -> RoomSummary:
        """The room after its last step (`RoomSummary`): what routes read."""
        return self.core.summary()

    @property
    def ended(self) -> bool:
        return self.summary.ended

    def has_phone(self, device: DeviceId) -> bool:
        return self.core.is_present(device)

    def fill_in_board(self) -> list[JobView]:
        """The room's latest fill-in jobs, newest first (none without a queue)."""
        return [] if self.fill_ins is None else self.fill_ins.board()

    @property
    def film_epoch(self) -> float | None:
        """The room-clock instant the film's RTP timestamps count from (None: no film yet)."""
        return self.film.film.timeline.origin if self.film is not None else None

    def film_tracks(self, rendition: str) -> tuple[MediaStreamTrack, ...]:
        """A new subscription to the film at ``rendition`` (none when it has no film)."""
        return () if self.film is None else self.film.film.subscribe(rendition)

    # -- the sockets' side ------------------------------------------------------------

    async def connect(self, page: Page) -> None:
        """Take a page in: its ``welcome`` comes with the room's next step."""
        self.pages.connected(page)
        await self.inbox.put(Attach(page.ref))

    async def disconnect(self, page: Page) -> None:
        self.pages.gone(page)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(DETACH_TIMEOUT_S):
                await self.inbox.put(Detach(page.ref))

    # -- the loop ---------------------------------------------------------------------

    async def run(self) -> None:
        room_var.set(self.code)
        screening = self.core.screening
        log.info("room running: %s (%s)", self.core.story.title, screening.phase.value)
        if (playing := screening.now_playing) is not None:  # restored mid-scene
            for cues in (self.film, self.fill_ins):
                if cues is not None:
                    cues.feed(playing)
        try:
            while True:
                await self._step(await self._collect())
        finally:
            log.info("room stopped")  # its pages are told by `Rooms` (restart or shutdown)
            if self.film is not None:
                await self.film.film.close()
            if self.fill_ins is not None:
                await self.fill_ins.close()

    async def _collect(self) -> list[Inbound]:
        timeout = self._settings.tick_interval_s
        due = self.core.next_due()
        if due is not None:
            timeout = min(timeout, max(0.0, due - self.clock.now()))
        items: list[Inbound] = []
        try:
            async with asyncio.timeout(timeout):
                items.append(await self.inbox.get())
        except TimeoutError:
            pass
        while len(items) < MAX_ITEMS_PER_STEP and not self.inbox.empty():
            items.append(self.inbox.get_nowait())
        return items

    async def _step(self, items: list[Inbound]) -> None:
        step = self.core.step(self._judged(items), self.clock.now())
        if step.parts:
            await self._committer.commit(Batch.from_parts(step.parts))
        self.pages.attached(step.attached)
        self.pages.detached(step.detached)
        self.pages.deliver(step.sends)
        self._acked(items)
        self._cue(step)
        self.pages.deliver(self.core.live(self.clock.now()))

    def _judged(self, items: list[Inbound]) -> Iterable[CoreItem]:
        for item in items:
            if isinstance(item, Generated):
                assert self.fill_ins is not None  # only its queue puts `Generated` here
                yield self.fill_ins.accept(item)
            else:
                yield item

    def _acked(self, items: list[Inbound]) -> None:
        """Vote arrival to ack (or refusal) leaving the room, for each vote."""
        now = self.clock.now()
        for item in items:
            if isinstance(item, Incoming) and item.message.type == "vote":
                self._metrics.vote_ack_seconds.observe(max(0.0, now - item.received_at))

    def _cue(self, step: Step) -> None:
        """The film and the fill-in jobs follow the screening; metrics count, logs tell."""
        for command in step.commands:
            for cues in (self.film, self.fill_ins):
                if cues is not None:
                    cues.feed(command)
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


__all__ = ["Room"]
