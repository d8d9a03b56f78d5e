"""The Room actor: one asyncio task per room, the only owner of its `Screening`.

Theory of operation. Sockets put `Attach`, `Detach` and `Incoming` items (the camera
analysis `Sensed` ones, fill-in jobs `Generated` ones) into the room's bounded inbox (a
full inbox makes their `put` wait: backpressure on the sockets, not memory growth). The
room's task loops: it takes everything queued (or waits until the screening's next due
instant, at most ``tick_interval_s``), feeds the events into the screening, stamps each event that
changed something with the next sequence number, and hands the resulting batch (event
log, decisions, moods, explore rewards, status, and now and then a snapshot) to the
group committer. Only once the batch is durable does anything leave the room: vote acks,
decisions, state. So an acked vote is never lost and a decision is persisted before it
is broadcast (DESIGN.md, "How one vote flows").

What leaves the room, and the coalesced tally, presence and mood, is `RoomOutbound`'s
(`server.rooms.outbound`).

Ticks with no effect are not logged: they change nothing, so replaying the logged events
rebuilds exactly the state the room had (`server.rooms.registry` restores rooms so).

Affect (DESIGN.md, "Affect"): each phone's latest sample (its ``affect`` message, or the
server's camera analysis, `Sensed`) is kept here in memory only (`narrative.mood.LiveMood`),
dropped when the phone leaves and no longer counted once stale. The room aggregates it
(`narrative.mood.aggregate`) at most once per ``tally_interval_s`` and feeds the
screening a `RoomMood` when the reading changed: so the event log and the snapshots hold
the room's mood over time, never a phone's numbers, and replay stays exact.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import BaseModel

from mobile_bridge.protocol import (
    Affect,
    Ended,
    Error,
    HostAck,
    HostCommand,
    LiveVote,
    Vote,
    VoteAck,
    VoteRejectedMessage,
    Welcome,
    dump,
)
from mobile_bridge.protocol import DecisionMessage as DecisionView
from narrative.ballots import ballot_to_json
from narrative.events import (
    AffectSample,
    Command,
    Decide,
    End,
    Event,
    EventRejected,
    Force,
    Join,
    Leave,
    MoodReport,
    OpenVote,
    PlayScene,
    RoomMood,
    Skip,
    Start,
    StoryFault,
    Tick,
    VoteAccepted,
    VoteCast,
    VoteRejected,
    to_json,
)
from narrative.events import Ended as EndedCommand
from narrative.explore_history import ArmTracker
from narrative.ids import ChoiceId, DeviceId, OptionId
from narrative.mood import LiveMood, Sample, mood_to_json
from narrative.screening import Phase, Screening
from narrative.story import Story
from server.logs import room_var
from server.metrics import Metrics
from server.persistence import (
    ArmIncrement,
    Batch,
    BatchPart,
    DecisionRecord,
    EventRecord,
    MoodRecord,
    RoomRecord,
    RoomStatus,
    SnapshotRecord,
)
from server.rooms.clock import RoomClock
from server.rooms.committer import Committer
from server.rooms.fill_ins import FillIns
from server.rooms.film_cues import FilmCues
from server.rooms.inbox import Attach, Detach, Generated, Inbound, Incoming, Sensed, ballot_of
from server.rooms.outbound import MOOD_REFRESH_S, RoomOutbound, Target
from server.rooms.outbox import Item
from server.rooms.page import Page
from server.rooms.views import decision_view, state_view, vote_open_view
from server.settings import Settings

log = logging.getLogger(__name__)

MAX_ITEMS_PER_STEP = 5_000

HostOrigin = tuple[Page, int | None]  # the host page a command came from, and its id


@dataclass(slots=True)
class _Step:
    """What one pass of the loop produced: what to persist, then what to send."""

    parts: list[BatchPart] = field(default_factory=list)
    sends: list[tuple[Target, Item]] = field(default_factory=list)
    ack_started: list[float] = field(default_factory=list)

    def send(self, target: Target, message: BaseModel) -> None:
        self.sends.append((target, Item("message", dump(message))))


class Room(RoomOutbound):
    def __init__(
        self,
        *,
        record: RoomRecord,
        story: Story,
        story_digest: str,
        screening: Screening,
        tracker: ArmTracker,
        last_seq: int,
        last_snapshot_seq: int,
        last_decision: DecisionView | None,
        clock: RoomClock,
        committer: Committer,
        metrics: Metrics,
        settings: Settings,
        absent: tuple[DeviceId, ...] = (),
        film: FilmCues | None = None,
        fill_ins: FillIns | None = None,
    ) -> None:
        self.record = record
        self.film = film  # the film this room's pages receive, if it has one
        self.fill_ins = fill_ins  # its generated scenes' jobs, if it has a queue
        self._absent = absent  # present before a restart, their sockets gone with it
        self.failures = 0  # times this room crashed and was restored (see `Rooms`)
        self.code = record.code
        self.story = story
        self.story_digest = story_digest
        self.screening = screening
        self.tracker = tracker
        self.clock = clock
        self.show_tally = record.show_tally
        self.inbox: asyncio.Queue[Inbound] = asyncio.Queue(settings.inbox_size)
        self.pages: set[Page] = set()
        self.devices: dict[DeviceId, set[Page]] = {}
        self.weights: dict[DeviceId, float] = {}
        self._seq = last_seq
        self._snapshot_seq = last_snapshot_seq
        self._last_decision = last_decision
        self._committer = committer
        self._metrics = metrics
        self._settings = settings
        self._last_now = float("-inf")
        self._live_mood = LiveMood()  # per-phone affect: memory only, never persisted
        self._affect_dirty = True  # a restored room re-reads its (now empty) cameras
        self._affect_at = float("-inf")  # room clock of the last reading
        self._init_outbound()

    # -- the loop ---------------------------------------------------------------------

    async def run(self) -> None:
        room_var.set(self.code)
        log.info("room running: %s (%s)", self.story.title, self.screening.phase.value)
        if (playing := self.screening.now_playing) is not None:  # restored mid-scene
            for cues in (self.film, self.fill_ins):
                if cues is not None:
                    cues.feed(playing)
        try:
            if self._absent:
                step = _Step()
                for device in self._absent:
                    self._feed(Leave(device, self._now()), step)
                await self._committer.commit(Batch.from_parts(step.parts))
            while True:
                await self._step(await self._collect())
        finally:
            log.info("room stopped")  # its pages are told by `Rooms` (restart or shutdown)
            if self.film is not None:
                await self.film.close()
            if self.fill_ins is not None:
                await self.fill_ins.close()

    async def _collect(self) -> list[Inbound]:
        timeout = self._settings.tick_interval_s
        due = self.screening.next_due()
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

    async def _step(self, items: Iterable[Inbound]) -> None:
        step = _Step()
        for item in items:
            match item:
                case Attach(page=page):
                    self._attach(page, step)
                case Detach(page=page):
                    self._detach(page, step)
                case Incoming():
                    self._incoming(item, step)
                case Sensed(sample=sample):  # the server analysed this phone's camera
                    self._affect(sample)
                case Generated():
                    self._generated(item, step)
        self._room_mood(step)
        self._feed(Tick(self._now()), step)
        if step.parts:
            # A snapshot costs in proportion to the phones present; spacing snapshots in
            # proportion too keeps its cost per event flat in a 10,000-phone room, while a
            # restart still replays at most a few votes per phone.
            every = max(self._settings.snapshot_every, 2 * self.screening.present)
            if self._seq - self._snapshot_seq >= every:
                step.parts.append(self._snapshot())
            await self._committer.commit(Batch.from_parts(step.parts))
        self._deliver(step.sends)
        sent = time.perf_counter()
        for started in step.ack_started:
            self._metrics.vote_ack_seconds.observe(max(0.0, sent - started))
        self._flush_live()

    def _now(self) -> float:
        self._last_now = max(self._last_now, self.clock.now())
        return self._last_now

    # -- inbound ----------------------------------------------------------------------

    def _attach(self, page: Page, step: _Step) -> None:
        self.pages.add(page)
        self._metrics.sockets.labels(page.role).inc()
        if page.role == "phone":
            pages = self.devices.setdefault(page.device, set())
            pages.add(page)
            if len(pages) == 1:
                self._feed(Join(page.device, self._now(), page.weight), step)
                self._affect_dirty = True  # participation's denominator changed
        live = self.screening.live_ballot(page.device)
        vote = self.screening.open_vote
        your_vote = None
        if live is not None and vote is not None:
            your_vote = LiveVote.model_validate(
                {"choice": vote.choice, "seq": live[0], **ballot_to_json(live[1])}
            )
        step.send(
            page,
            Welcome(
                protocol=1,
                room=self.code,
                role=page.role,
                device=page.device,
                nickname=page.nickname,
                title=self.story.title,
                mode=self.record.mode,
                now=self.clock.now(),
                state=state_view(self.story, self.screening),
                your_vote=your_vote,
            ),
        )
        if self._last_decision is not None:
            step.send(page, self._last_decision)
        self._presence_dirty = True

    def _detach(self, page: Page, step: _Step) -> None:
        if page not in self.pages:
            return
        self.pages.discard(page)
        self._metrics.sockets.labels(page.role).dec()
        pages = self.devices.get(page.device)
        if pages is not None:
            pages.discard(page)
            if not pages:
                del self.devices[page.device]
                self._live_mood.drop(page.device)
                self._affect_dirty = True
                self._feed(Leave(page.device, self._now()), step)
        self._presence_dirty = True

    def _incoming(self, item: Incoming, step: _Step) -> None:
        page, message, at = item.page, item.message, item.received_at
        match message:
            case Vote():
                step.ack_started.append(time.perf_counter())
                ballot = ballot_of(message)
                self._feed(
                    VoteCast(page.device, ChoiceId(message.choice), ballot, message.seq, at), step
                )
            case Affect():
                m = message
                sample = AffectSample(
                    page.device, m.valence, m.arousal, m.engagement, at, m.heart_rate_bpm
                )
                self._affect(sample)
            case HostCommand():
                self._host(page, message, at, step)

    def _host(self, page: Page, command: HostCommand, at: float, step: _Step) -> None:
        event: Event
        match command.action:
            case "start":
                event = Start(at)
            case "skip":
                event = Skip(at)
            case "end":
                event = End(at)
            case "force":
                if command.option is None:
                    error = Error(
                        code="bad-message", message="force needs an option", ref=command.id
                    )
                    step.send(page, error)
                    return
                event = Force(OptionId(command.option), at)
            case "show_tally":
                self.show_tally = bool(command.show)
                step.send(page, HostAck(action=command.action, id=command.id))
                return
        commands = self._feed(event, step, host=(page, command.id))
        if not any(isinstance(c, EventRejected) for c in commands):
            step.send(page, HostAck(action=command.action, id=command.id))

    # -- affect -----------------------------------------------------------------------

    def _affect(self, sample: AffectSample) -> None:
        """Keep a phone's sample in memory (never logged); refused for a phone not in
        the room (a screen's or host's socket, or one that already left)."""
        if sample.device not in self.devices:
            log.warning("event refused: AffectSample unknown-device")
            return
        self._live_mood.add(
            Sample(
                sample.device, sample.valence, sample.arousal, sample.engagement,
                sample.now, sample.heart_rate_bpm,
            )
        )  # fmt: skip
        self._affect_dirty = True

    def _room_mood(self, step: _Step) -> None:
        """Feed the screening the room's mood when it changed: at most once per
        ``tally_interval_s``, after a sample or a phone came or went, or every
        ``MOOD_REFRESH_S`` while cameras count (a sample goes stale without any event)."""
        if self.screening.phase is Phase.ENDED:
            return
        now = self._now()
        counted = self.screening.mood(now).viewers > 0
        due = self._affect_dirty or (counted and now - self._affect_at >= MOOD_REFRESH_S)
        if not due or now - self._affect_at < self._settings.tally_interval_s:
            return
        self._affect_dirty = False
        self._affect_at = now
        self._live_mood.expire(now)
        mood = self._live_mood.reading(now, present=self.devices)
        if mood_to_json(mood) != mood_to_json(self.screening.mood(now)):
            self._feed(RoomMood.of(mood, now), step)
            self._mood_dirty = True

    def _generated(self, item: Generated, step: _Step) -> None:
        """A fill-in job came back: keep its provenance, cue its clip if it is in time."""
        assert self.fill_ins is not None  # only its queue puts `Generated` in the inbox
        fill_in, record = self.fill_ins.accept(item)
        step.parts.extend([] if record is None else [record])
        rejected = fill_in is None or any(
            isinstance(c, EventRejected) for c in self._feed(fill_in, step)
        )
        if not rejected and fill_in is not None and self.film is not None:
            self.film.fill_in(fill_in.scene, fill_in.media)

    # -- the screening ----------------------------------------------------------------

    def _feed(self, event: Event, step: _Step, *, host: HostOrigin | None = None) -> list[Command]:
        commands = self.screening.handle(event)
        if isinstance(event, Tick) and not commands:
            return commands
        self._seq += 1
        step.parts.append(
            EventRecord(self.code, self._seq, type(event).__name__, to_json(event), event.now)
        )
        for command in commands:
            self._command(command, step, host)
        return commands

    def _command(self, command: Command, step: _Step, host: HostOrigin | None) -> None:
        if self.film is not None:
            self.film.feed(command)
        if self.fill_ins is not None:
            self.fill_ins.feed(command)
        if (reward := self.tracker.feed(command)) is not None:
            step.parts.append(
                ArmIncrement(self.story_digest, reward.choice, reward.option, 1, reward.reward)
            )
        match command:
            case PlayScene():
                if self.screening.path == (command.scene,):
                    step.parts.append(RoomStatus(self.code, "playing"))
                step.send("all", state_view(self.story, self.screening, command))
            case OpenVote():
                step.send("all", vote_open_view(self.story, self.screening, command))
                self._tally_dirty = True
            case VoteAccepted():
                self._metrics.votes.labels("accepted").inc()
                step.send(
                    command.device,
                    VoteAck(choice=command.choice, seq=command.seq, replaced=command.replaced),
                )
                self._tally_dirty = True
            case VoteRejected():
                self._metrics.votes.labels(command.code).inc()
                step.send(
                    command.device,
                    VoteRejectedMessage(choice=command.choice, seq=command.seq, code=command.code),
                )
            case EventRejected():
                if host is not None:
                    page, ref = host
                    message = f"{command.event}: {command.code}"
                    step.send(page, Error(code="host-rejected", message=message, ref=ref))
                else:
                    log.warning("event refused: %s %s", command.event, command.code)
            case Decide():
                self._metrics.decisions.labels(command.policy).inc()
                step.parts.append(
                    DecisionRecord(
                        self.code,
                        self._seq,
                        command.choice,
                        command.option,
                        command.goto,
                        command.policy,
                        command.reason,
                        command.tally,
                        command.turnout.voted,
                        command.turnout.present,
                        command.at,
                    )
                )
                view = decision_view(self.story, command)
                self._last_decision = view
                step.send("all", view)
                log.info("decided %s: %s (%s)", command.choice, command.option, command.reason)
            case MoodReport():
                step.parts.append(
                    MoodRecord(
                        self.code,
                        command.scene,
                        command.valence,
                        command.arousal,
                        command.engagement,
                        command.viewers,
                        command.samples,
                        command.at,
                    )
                )
            case StoryFault():
                log.warning("story fault in %s: %s", command.scene, command.message)
            case EndedCommand():
                step.parts.append(RoomStatus(self.code, "ended"))
                step.parts.append(self._snapshot())
                ended = Ended(reason=command.reason, at=command.at, report=None)
                plain = Item("message", dump(ended))
                report = f"/rooms/{self.code}/report"  # the host is told where its report page is
                for_host = Item("message", dump(ended.model_copy(update={"report": report})))
                for page in self.pages:
                    step.sends.append((page, for_host if page.role == "host" else plain))
                log.info("screening ended (%s)", command.reason)

    def _snapshot(self) -> SnapshotRecord:
        self._snapshot_seq = self._seq
        data = {
            "screening": self.screening.snapshot(),
            "tracker": self.tracker.to_json(),
            "show_tally": self.show_tally,
        }
        return SnapshotRecord(self.code, self._seq, data)

    @property
    def ended(self) -> bool:
        return self.screening.phase is Phase.ENDED


__all__ = ["Room"]
