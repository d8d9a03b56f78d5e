"""The room core: everything a room decides, with no I/O.

Theory of operation. A room's shell (`server.rooms.room`) collects what its inbox holds
and hands it to `RoomCore.step` with the room-clock time; the core feeds the `Screening`,
and returns a `Step`: what must be made durable (`parts`, for the group commit) and what
must be sent to whom (`sends`, addressed by page, device or role, never by socket), plus
the screening's commands for the parts of the shell that act on them (the film, the
fill-in jobs, metrics and logs). The shell commits the parts, and only then delivers the
sends: an acked vote is never lost and a decision is persisted before it is broadcast
(DESIGN.md, "How one vote flows"). The core reads no clock, opens no socket, logs nothing
and draws no chance of its own: time comes in as an argument, as in `narrative/`.

- Every event that changed something is stamped with the room's next sequence number and
  logged (`EventRecord`); ticks with no effect are not, since they change nothing, so
  replaying the log rebuilds exactly the state the room had (`server.rooms.registry`
  restores rooms so, through a core).
- What each command becomes is `server.rooms.effects`' two tables.
- Affect (DESIGN.md, "Affect"): each phone's latest sample is kept here in memory only
  (`narrative.mood.LiveMood`), dropped when the phone leaves and no longer counted once
  stale; the room's aggregate is fed to the screening as a `RoomMood` at most once per
  ``tally_interval_s``, when the reading changed: the log and the snapshots hold the
  room's mood over time, never a phone's numbers.
- The live tally, presence and mood are `LiveFeed`'s (`live`), coalesced by time.
- What routes may read is `summary()`: a frozen value, rebuilt after a step when asked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel

from mobile_bridge.protocol import (
    Affect,
    Error,
    HostAck,
    HostCommand,
    LiveVote,
    Vote,
    Welcome,
    dump,
)
from narrative.ballots import ballot_to_json
from narrative.events import (
    AffectSample,
    Command,
    Decide,
    End,
    Ended,
    Event,
    EventRejected,
    FillIn,
    Force,
    Join,
    Leave,
    OpenVote,
    PlayScene,
    RoomMood,
    Skip,
    Start,
    Tick,
    VoteAccepted,
    VoteCast,
    event_from_json,
    to_json,
)
from narrative.explore_history import ArmTracker
from narrative.ids import ChoiceId, DeviceId, OptionId
from narrative.mood import LiveMood, Sample, mood_to_json
from narrative.plot import Plot, Screenable
from narrative.policies import policy_from_spec
from narrative.screening import Phase, Screening
from server.persistence.records import (
    ArmIncrement,
    BatchPart,
    EventRecord,
    RoomMode,
    RoomRecord,
    SnapshotRecord,
)
from server.rooms.audience import Item, PageKey, PageRef, Send, ToPage
from server.rooms.effects import Context, messages, records
from server.rooms.inbox import Attach, CoreItem, Detach, Incoming, Judged, Sensed, ballot_of
from server.rooms.live_feed import MOOD_REFRESH_S, Counts, LiveFeed
from server.rooms.views import state_view
from server.tokens import Role

HostOrigin = tuple[PageKey, int | None]  # the host page a command came from, and its id


@dataclass(frozen=True, slots=True)
class CoreSettings:
    snapshot_every: int = 500  # events between snapshots (at least twice the phones present)
    tally_interval_s: float = 0.25  # at most one live tally (and mood reading) this often


@dataclass(slots=True)
class Step:
    """What one step produced: what to persist, then what to send, and what it meant."""

    parts: list[BatchPart] = field(default_factory=list)
    sends: list[Send] = field(default_factory=list)
    # The screening's commands and the fill-ins it accepted (their clips are cued), in order.
    commands: list[Command | FillIn] = field(default_factory=list)
    attached: list[PageKey] = field(default_factory=list)
    detached: list[PageKey] = field(default_factory=list)

    def send(self, key: PageKey, message: BaseModel) -> None:
        self.sends.append(Send(ToPage(key), Item("message", dump(message))))


@dataclass(frozen=True, slots=True)
class RoomSummary:
    """What anyone outside the room may read of it: a frozen value, never its internals."""

    code: str
    title: str
    mode: RoomMode
    policy: str
    phase: Phase
    phones: int  # phones present (devices, however many tabs)
    connected: Mapping[Role, int]  # connected pages by role
    playing: PlayScene | None = None  # what the film plays now
    vote: OpenVote | None = None  # the vote open now (the film pre-reads its branches)

    @property
    def ended(self) -> bool:
        return self.phase is Phase.ENDED


@dataclass(frozen=True, slots=True)
class Roster:
    """Who is here and who voted: per seat, for the host's roster (`RoomCore.roster`)."""

    online: frozenset[DeviceId]  # seats with a connected page
    voted: frozenset[DeviceId]  # devices with a live ballot in the scene's vote


def screening_of(record: RoomRecord, story: Screenable) -> Screening:
    """A new screening of ``story`` as the room's began: its policy, seed and grace (what a
    restore or a report replays the room's event log into).

    Raises:
        PolicyError: the stored policy no longer builds.
    """
    return Screening(story, policy_from_spec(record.policy), record.seed, record.vote_grace_s)


class RoomCore:
    def __init__(
        self,
        *,
        code: str,
        mode: RoomMode,
        story_digest: str,
        screening: Screening,
        tracker: ArmTracker | None = None,
        show_tally: bool = False,
        last_seq: int = 0,
        last_snapshot_seq: int = 0,
        last_decision: Decide | None = None,
        absent: Iterable[DeviceId] = (),
        absent_until: float = float("-inf"),
        settings: CoreSettings | None = None,
    ) -> None:
        self.code = code
        self.mode: RoomMode = mode
        self.story: Plot = screening.story  # what the room shows: the graph, or its ink run
        self.story_digest = story_digest
        self.screening = screening
        self.tracker = tracker or ArmTracker()
        self.show_tally = show_tally
        self._settings = settings or CoreSettings()
        self._seq = last_seq
        self._snapshot_seq = last_snapshot_seq
        self._last_decision: Item | None = None
        if last_decision is not None:
            (send,) = messages(last_decision, self._context(None))
            self._last_decision = send.item
        # Phones present before a restart or a change of owner: the first step at or after
        # ``absent_until`` makes those that did not come back (`Attach`) leave.
        self._absent = set(absent)
        self._absent_until = absent_until
        self._pages: dict[PageKey, PageRef] = {}
        self._devices: dict[DeviceId, set[PageKey]] = {}  # phones present, by their pages
        self._roles: Counter[Role] = Counter()
        self._last_now = float("-inf")
        self._live_mood = LiveMood()  # per-phone affect: memory only, never persisted
        self._affect_dirty = True  # a restored room re-reads its (now empty) cameras
        self._affect_at = float("-inf")  # room clock of the last reading
        self._feed_live = LiveFeed(self._settings.tally_interval_s)
        self._version = 0
        self._summary: tuple[int, RoomSummary] | None = None

    @classmethod
    def restore(
        cls,
        *,
        code: str,
        mode: RoomMode,
        story: Screenable,
        story_digest: str,
        screening: Screening,
        show_tally: bool,
        snapshot: SnapshotRecord | None,
        events: Iterable[EventRecord],
        last_decision: Decide | None,
        absent_until: float = float("-inf"),
        settings: CoreSettings | None = None,
    ) -> RoomCore:
        """The room as its log left it: ``screening`` (new, for a room with no snapshot)
        or the latest snapshot, then every event logged after it, replayed. The replayed
        commands are dropped: they were persisted and sent before. Phones that were
        present leave at the first step at or after ``absent_until`` unless their pages
        came back by then (sockets that died with a process reconnect and join again;
        sockets on other processes of a cluster come back at once, `Attach` ``resumed``).

        Raises:
            SnapshotError: the snapshot does not fit the story.
        """
        tracker = ArmTracker()
        after = 0
        if snapshot is not None:
            data = snapshot.data
            screening = Screening.restore(story, data["screening"])  # type: ignore[arg-type]
            tracker = ArmTracker.from_json(data["tracker"])  # type: ignore[arg-type]
            show_tally = bool(data.get("show_tally", show_tally))
            after = snapshot.seq
        last_seq = after
        for entry in events:
            last_seq = entry.seq
            if entry.kind == "AffectSample":
                continue  # a phone's numbers, logged before rooms kept them in memory only
            for command in screening.handle(event_from_json(entry.payload)):
                tracker.feed(command)  # rewards were persisted with the event
        return cls(
            code=code, mode=mode, story_digest=story_digest,
            screening=screening, tracker=tracker, show_tally=show_tally, last_seq=last_seq,
            last_snapshot_seq=after, last_decision=last_decision, absent=screening.devices,
            absent_until=absent_until, settings=settings,
        )  # fmt: skip

    # -- the one door in ----------------------------------------------------------------

    def step(self, items: Iterable[CoreItem], now: float) -> Step:
        """Feed ``items`` (in arrival order) and a tick at ``now`` (room clock)."""
        now = self._last_now = max(self._last_now, now)
        step = Step()
        for item in items:
            match item:
                case Attach(page=page, resumed=resumed):
                    self._attach(page, now, step, resumed=resumed)
                case Detach(page=page):
                    self._detach(page, now, step)
                case Incoming():
                    self._incoming(item, step)
                case Sensed(sample=sample):  # the server analysed this phone's camera
                    self._affect(sample, step)
                case Judged(record=record, fill_in=fill_in):
                    step.parts.extend([] if record is None else [record])
                    if fill_in is not None and not _refused(self._feed(fill_in, step)):
                        step.commands.append(fill_in)
        if self._absent and now >= self._absent_until:
            for device in sorted(self._absent - self._devices.keys()):
                self._feed(Leave(device, now), step)
            self._absent = set()
        self._room_mood(now, step)
        self._feed(Tick(now), step)
        if step.parts:
            # A snapshot costs in proportion to the phones present; spacing snapshots in
            # proportion too keeps its cost per event flat in a 10,000-phone room, while a
            # restart still replays at most a few votes per phone.
            every = max(self._settings.snapshot_every, 2 * self.screening.present)
            if self._seq - self._snapshot_seq >= every:
                step.parts.append(self._snapshot())
        self._version += 1
        return step

    def live(self, now: float) -> list[Send]:
        """The coalesced tally, presence and mood due at ``now`` (`LiveFeed`)."""
        counts = Counts(len(self._devices), self._roles["screen"], self._roles["host"])
        return self._feed_live.flush(now, self.screening, counts, show_tally=self.show_tally)

    @property
    def seq(self) -> int:
        """The sequence number of the last event logged."""
        return self._seq

    def next_due(self) -> float | None:
        """The room-clock instant the screening next changes without any event."""
        return self.screening.next_due()

    def is_present(self, device: DeviceId) -> bool:
        """Whether ``device`` is a phone in the room now."""
        return device in self._devices

    def roster(self) -> Roster:
        """Every seat with a connected page, and every phone with a live ballot now."""
        vote = self.screening.vote
        return Roster(
            online=frozenset(page.device for page in self._pages.values()),
            voted=frozenset(vote.ballots) if vote is not None else frozenset(),
        )

    def summary(self) -> RoomSummary:
        """The room as it is after the last step (built on demand, then kept until the next)."""
        if self._summary is not None and self._summary[0] == self._version:
            return self._summary[1]
        summary = RoomSummary(
            code=self.code,
            title=self.story.title,
            mode=self.mode,
            policy=self.screening.policy.name,
            phase=self.screening.phase,
            phones=len(self._devices),
            connected={role: self._roles[role] for role in ("phone", "screen", "host")},
            playing=self.screening.now_playing,
            vote=self.screening.open_vote,
        )
        self._summary = (self._version, summary)
        return summary

    # -- pages --------------------------------------------------------------------------

    def _attach(self, page: PageRef, now: float, step: Step, *, resumed: bool) -> None:
        if page.key not in self._pages:
            self._roles[page.role] += 1
        self._pages[page.key] = page
        step.attached.append(page.key)
        if page.role == "phone":
            keys = self._devices.setdefault(page.device, set())
            keys.add(page.key)
            present = resumed and page.device in self.screening.devices
            if len(keys) == 1 and not present:
                self._feed(Join(page.device, now, page.weight), step)
            self._affect_dirty = True  # participation's denominator changed
        live = self.screening.live_ballot(page.device)
        vote = self.screening.open_vote
        your_vote = None
        if live is not None and vote is not None:
            your_vote = LiveVote.model_validate(
                {"choice": vote.choice, "seq": live[0], **ballot_to_json(live[1])}
            )
        welcome = Welcome(
            protocol=1, room=self.code, role=page.role, device=page.device,
            nickname=page.nickname, title=self.story.title, mode=self.mode, now=now,
            state=state_view(self.story, self.screening), your_vote=your_vote,
        )  # fmt: skip
        step.send(page.key, welcome)
        if self._last_decision is not None:
            step.sends.append(Send(ToPage(page.key), self._last_decision))
        self._feed_live.changed(presence=True)

    def _detach(self, page: PageRef, now: float, step: Step) -> None:
        if self._pages.pop(page.key, None) is None:
            return
        self._roles[page.role] -= 1
        step.detached.append(page.key)
        keys = self._devices.get(page.device)
        if keys is not None:
            keys.discard(page.key)
            if not keys:
                del self._devices[page.device]
                self._live_mood.drop(page.device)
                self._affect_dirty = True
                self._feed(Leave(page.device, now), step)
        self._feed_live.changed(presence=True)

    # -- what pages say -----------------------------------------------------------------

    def _incoming(self, item: Incoming, step: Step) -> None:
        page, message, at = item.page, item.message, item.received_at
        match message:
            case Vote():
                event = VoteCast(
                    page.device, ChoiceId(message.choice), ballot_of(message), message.seq, at,
                    item.cast_at,
                )  # fmt: skip
                self._feed(event, step)
            case Affect():
                m = message
                sample = AffectSample(
                    page.device, m.valence, m.arousal, m.engagement, at, m.heart_rate_bpm
                )
                self._affect(sample, step)
            case HostCommand():
                self._host(page, message, at, step)

    def _host(self, page: PageRef, command: HostCommand, at: float, step: Step) -> None:
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
                    why = "force needs an option"
                    step.send(page.key, Error(code="bad-message", message=why, ref=command.id))
                    return
                event = Force(OptionId(command.option), at)
            case "show_tally":
                self.show_tally = bool(command.show)
                step.send(page.key, HostAck(action=command.action, id=command.id))
                return
        if not _refused(self._feed(event, step, host=(page.key, command.id))):
            step.send(page.key, HostAck(action=command.action, id=command.id))

    # -- affect -------------------------------------------------------------------------

    def _affect(self, sample: AffectSample, step: Step) -> None:
        """Keep a phone's sample in memory (never logged); refused for a phone not in
        the room (a screen's or host's socket, or one that already left)."""
        if sample.device not in self._devices:
            step.commands.append(
                EventRejected("AffectSample", "unknown-device", sample.now, sample.device)
            )
            return
        self._live_mood.add(
            Sample(
                sample.device, sample.valence, sample.arousal, sample.engagement,
                sample.now, sample.heart_rate_bpm,
            )
        )  # fmt: skip
        self._affect_dirty = True

    def _room_mood(self, now: float, step: Step) -> None:
        """Feed the screening the room's mood when it changed: at most once per
        ``tally_interval_s``, after a sample or a phone came or went, or every
        ``MOOD_REFRESH_S`` while cameras count (a sample goes stale without any event)."""
        if self.screening.phase is Phase.ENDED:
            return
        counted = self.screening.mood(now).viewers > 0
        due = self._affect_dirty or (counted and now - self._affect_at >= MOOD_REFRESH_S)
        if not due or now - self._affect_at < self._settings.tally_interval_s:
            return
        self._affect_dirty = False
        self._affect_at = now
        self._live_mood.expire(now)
        mood = self._live_mood.reading(now, present=self._devices)
        if mood_to_json(mood) != mood_to_json(self.screening.mood(now)):
            self._feed(RoomMood.of(mood, now), step)
            self._feed_live.changed(mood=True)

    # -- the screening ------------------------------------------------------------------

    def _feed(self, event: Event, step: Step, *, host: HostOrigin | None = None) -> list[Command]:
        commands = self.screening.handle(event)
        if isinstance(event, Tick) and not commands:
            return commands
        self._seq += 1
        step.parts.append(
            EventRecord(self.code, self._seq, type(event).__name__, to_json(event), event.now)
        )
        ctx = self._context(host, starting=isinstance(event, Start))
        for command in commands:
            step.commands.append(command)
            if (reward := self.tracker.feed(command)) is not None:
                step.parts.append(
                    ArmIncrement(self.story_digest, reward.choice, reward.option, 1, reward.reward)
                )
            step.parts.extend(records(command, ctx))
            sends = messages(command, ctx)
            step.sends.extend(sends)
            match command:
                case OpenVote() | VoteAccepted():
                    self._feed_live.changed(tally=True)
                case Decide():
                    self._last_decision = sends[0].item
                case Ended():
                    step.parts.append(self._snapshot())
        return commands

    def _context(self, host: HostOrigin | None, *, starting: bool = False) -> Context:
        return Context(self.code, self.story, self.screening, self._seq, host, starting)

    def _snapshot(self) -> SnapshotRecord:
        self._snapshot_seq = self._seq
        data = {
            "screening": self.screening.snapshot(),
            "tracker": self.tracker.to_json(),
            "show_tally": self.show_tally,
        }
        return SnapshotRecord(self.code, self._seq, data)


def _refused(commands: list[Command]) -> bool:
    return any(isinstance(c, EventRejected) for c in commands)


__all__ = ["CoreSettings", "RoomCore", "RoomSummary", "Roster", "Step", "screening_of"]
