"""Bot phones: simple voting personas that follow a whole screening through `PhoneClient`.

`kinoroom demo` and `kinoroom loadtest` fill rooms with them. A persona is a plan, not a
mind: `plan_votes` (pure: chance comes from the caller's `random.Random`) says when in
a vote window a bot votes and in what order it prefers the options; `run_bot` carries
the plan out over a real socket and reports what the phone saw: ack latencies, vote
rejections, and when (``time.time()``, comparable across processes on one machine)
each decision reached it.

The personas:

- ``loyal``: always the first option, early in the window;
- ``contrarian``: always the last option;
- ``random``: a random option at a random moment (what the load test uses);
- ``undecided``: votes early, then changes its mind once (a later ``seq`` replaces);
- ``late``: votes in the last fifth of the window;
- ``quiet``: never votes (counts as present, not as voted);
- ``camera``: votes like ``random`` and sends affect numbers every few seconds, as a
  phone that analyses its own camera would.

Vote times are measured from the moment the ``vote_open`` reached the phone, not from
the room clock: the phone's clock estimate from ``welcome`` alone can be off by half a
loaded round trip, the receipt time cannot, and every plan stays within the first 90 %
of the window, so a vote is only late when the ``vote_open`` itself was.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import math
import random
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from mobile_bridge import protocol as wire
from mobile_bridge.client import Incoming, PhoneClient
from mobile_bridge.reconnect import ClientError

LAST_FRACTION = 0.9  # no plan votes later than this far into the window


class Persona(enum.Enum):
    LOYAL = "loyal"
    CONTRARIAN = "contrarian"
    RANDOM = "random"
    UNDECIDED = "undecided"
    LATE = "late"
    QUIET = "quiet"
    CAMERA = "camera"


PERSONAS = tuple(Persona)


@dataclass(frozen=True, slots=True)
class PlannedVote:
    after_s: float  # seconds after the vote_open arrived
    order: tuple[str, ...]  # options, most preferred first


def plan_votes(
    persona: Persona, options: list[str], window_s: float, rng: random.Random
) -> list[PlannedVote]:
    """When (after the ``vote_open`` arrived) and how a persona votes in one window.

    ``window_s`` is what the phone's countdown showed when the card arrived: from then to
    the close on its room clock, as a viewer sees it, so a bot taps before the close.
    """
    last = LAST_FRACTION * window_s
    shuffled = list(options)
    rng.shuffle(shuffled)
    match persona:
        case Persona.QUIET:
            return []
        case Persona.LOYAL:
            return [PlannedVote(rng.uniform(0.0, 0.3) * last, tuple(options))]
        case Persona.CONTRARIAN:
            return [PlannedVote(rng.uniform(0.0, 0.6) * last, tuple(reversed(options)))]
        case Persona.RANDOM | Persona.CAMERA:
            return [PlannedVote(rng.uniform(0.0, 1.0) * last, tuple(shuffled))]
        case Persona.LATE:
            return [PlannedVote(rng.uniform(0.8, 1.0) * last, tuple(shuffled))]
        case Persona.UNDECIDED:
            first = PlannedVote(rng.uniform(0.0, 0.4) * last, tuple(shuffled))
            changed = tuple(shuffled[1:] + shuffled[:1])  # another favourite
            return [first, PlannedVote(rng.uniform(0.6, 1.0) * last, changed)]


Ballot = tuple[str | None, list[str] | None, list[str] | None]


def ballot(kind: wire.BallotKind, order: tuple[str, ...]) -> Ballot:
    """``(option, ranking, approve)`` for `PhoneClient.vote`, from a preference order:
    the favourite, the whole order, or the top half approved."""
    match kind:
        case "option":
            return order[0], None, None
        case "ranking":
            return None, list(order), None
        case "approve":
            return None, None, list(order[: max(1, len(order) // 2)])


def personas_for(phones: int) -> list[Persona]:
    """A mixed audience: the personas in turn, so any dozen phones has two of each kind."""
    return [PERSONAS[i % len(PERSONAS)] for i in range(phones)]


@dataclass(frozen=True, slots=True)
class Seen:
    """A decision as one phone received it."""

    option: str
    at: float  # room clock: when the room decided
    received: float  # time.time() on the phone when the message arrived


@dataclass(slots=True)
class BotReport:
    """What one bot phone saw of the screening."""

    persona: Persona
    device: str | None = None
    ack_s: list[float] = field(default_factory=list)  # send to ack, seconds, per vote
    acked_at: list[float] = field(default_factory=list)  # time.time() of each ack
    rejected: list[str] = field(default_factory=list)  # vote_rejected codes
    # `window-closed` for a vote tapped before the close by the phone's own synced clock,
    # beyond its error bound: a vote the network, not its owner, made late.
    refused_in_time: int = 0
    decisions: dict[str, Seen] = field(default_factory=dict)  # by choice
    votes: int = 0
    affect_sent: int = 0
    reconnects: int = 0
    error: str | None = None  # the ClientError code (or "timeout") that ended the bot early


class Watch:
    """Sees every message the client receives, as it arrives (a `wait_for` predicate that
    never matches): vote openings queue up, decisions and the end are stamped at once,
    so nothing slips past between two waits."""

    def __init__(self) -> None:
        self.votes: asyncio.Queue[tuple[wire.VoteOpen, float]] = asyncio.Queue()
        self.decisions: dict[str, tuple[wire.DecisionMessage, float]] = {}
        self.decided = asyncio.Event()
        self.ended = asyncio.Event()
        self._seen: set[tuple[str, float]] = set()

    def offer(self, vote: wire.VoteOpen | None) -> None:
        if vote is not None and (vote.choice, vote.opens_at) not in self._seen:
            self._seen.add((vote.choice, vote.opens_at))
            self.votes.put_nowait((vote, time.monotonic()))

    def __call__(self, message: Incoming) -> bool:
        match message:
            case wire.VoteOpen():
                self.offer(message)
            case wire.State() | wire.Welcome():
                self.offer(message.vote if isinstance(message, wire.State) else message.state.vote)
            case wire.DecisionMessage():
                self.decisions.setdefault(message.choice, (message, time.time()))
                self.decided.set()
            case wire.Ended():
                self.ended.set()
        return False

    async def follow(self, client: PhoneClient, timeout_s: float) -> None:
        """Watch until the session ends or ``timeout_s`` passes."""
        with contextlib.suppress(ClientError, TimeoutError):
            await client.wait_for(self, timeout=timeout_s)
        self.ended.set()

    async def next_vote(self) -> tuple[wire.VoteOpen, float] | None:
        """The next vote opening (and when it arrived, monotonic), or None at the end."""
        if not self.votes.empty():
            return self.votes.get_nowait()
        getting = asyncio.ensure_future(self.votes.get())
        ending = asyncio.ensure_future(self.ended.wait())
        try:
            await asyncio.wait({getting, ending}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            getting.cancel()
            ending.cancel()
        if getting.done() and not getting.cancelled():
            return getting.result()
        return None

    async def decision(self, choice: str) -> tuple[wire.DecisionMessage, float] | None:
        while choice not in self.decisions and not self.ended.is_set():
            self.decided.clear()
            waiting = asyncio.ensure_future(self.decided.wait())
            ending = asyncio.ensure_future(self.ended.wait())
            try:
                await asyncio.wait({waiting, ending}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiting.cancel()
                ending.cancel()
        return self.decisions.get(choice)


async def run_bot(
    client: PhoneClient,
    persona: Persona,
    rng: random.Random,
    *,
    max_votes: int | None = None,
    affect_every_s: float = 2.0,
    timeout_s: float = 600.0,
) -> BotReport:
    """Follow a screening on a connected client: vote per ``persona`` in every window.

    Args:
        client: connected (`PhoneClient.connect` returned); not closed here.
        max_votes: stop after this many vote windows (each decided); None: until ``ended``.
        affect_every_s: how often a ``camera`` bot sends its numbers.
        timeout_s: the longest the bot follows the room.

    Returns:
        What the bot saw. A session that ends early is reported in ``error``, not raised.
    """
    report = BotReport(persona, device=client.device)
    watch = Watch()
    watch.offer(client.open_vote)
    tasks = [asyncio.create_task(watch.follow(client, timeout_s), name="bot-watch")]
    if persona is Persona.CAMERA:
        tasks.append(asyncio.create_task(_camera(client, rng, affect_every_s, report)))
    windows = 0
    try:
        async with asyncio.timeout(timeout_s):
            while max_votes is None or windows < max_votes:
                opened = await watch.next_vote()
                if opened is None:
                    break
                vote, arrived = opened
                windows += 1
                options = [o.id for o in vote.options]
                visible_s = max(0.0, vote.closes_at - client.clock.room_time(arrived))
                for planned in plan_votes(persona, options, visible_s, rng):
                    await asyncio.sleep(max(0.0, arrived + planned.after_s - time.monotonic()))
                    await _vote(client, vote, planned.order, report)
                decided = await watch.decision(vote.choice)
                if decided is not None:
                    message, received = decided
                    report.decisions[vote.choice] = Seen(message.option, message.at, received)
    except ClientError as exc:
        report.error = exc.code
    except TimeoutError:
        report.error = "timeout"
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, ClientError):
                await task
    if report.error is None and client.closed is not None and client.closed.code != "closed":
        report.error = client.closed.code
    report.reconnects = client.reconnects
    return report


def percentiles_ms(seconds: Sequence[float]) -> dict[str, float | None]:
    """p50, p95, p99 and max of ``seconds``, in milliseconds (nearest rank; None if empty)."""
    ordered = sorted(seconds)

    def rank(p: float) -> float | None:
        if not ordered:
            return None
        return round(
            1000 * ordered[min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1)], 2
        )

    return {"p50": rank(50), "p95": rank(95), "p99": rank(99), "max": rank(100)}


def latency_figures(
    reports: Iterable[BotReport], *, room_minus_wall: float | None = None
) -> dict[str, object]:
    """What a room's phones saw, summed up: votes, vote-ack latency, decision delivery.

    Args:
        reports: every bot's report (from any number of processes on one machine).
        room_minus_wall: room clock minus ``time.time()`` (from a synced client); with
            it, ``decision_latency_ms`` says how long after the room decided (``at``,
            the vote's close) each phone had the decision.

    Returns:
        JSON-ready figures: ``vote_ack_ms`` (client side, send to ack),
        ``refused_in_time`` (votes tapped before the close, by the phone's clock, and still
        refused as ``window-closed``),
        ``decision_spread_ms`` (each phone's receipt after the first phone's, per
        decision), ``decision_latency_ms``, counts of votes, rejections and errors.
    """
    reports = list(reports)
    spreads: list[float] = []
    latencies: list[float] = []
    phones_decided: dict[str, int] = {}
    for choice in sorted({c for r in reports for c in r.decisions}):
        seen = [r.decisions[choice] for r in reports if choice in r.decisions]
        first = min(s.received for s in seen)
        spreads += [s.received - first for s in seen]
        if room_minus_wall is not None:
            latencies += [s.received + room_minus_wall - s.at for s in seen]
        phones_decided[choice] = len(seen)
    return {
        "phones": len(reports),
        "votes": sum(r.votes for r in reports),
        "acked": sum(len(r.ack_s) for r in reports),
        "rejected": dict(Counter(code for r in reports for code in r.rejected)),
        "refused_in_time": sum(r.refused_in_time for r in reports),
        "errors": dict(Counter(r.error for r in reports if r.error is not None)),
        "reconnects": sum(r.reconnects for r in reports),
        "affect_sent": sum(r.affect_sent for r in reports),
        "vote_ack_ms": percentiles_ms([a for r in reports for a in r.ack_s]),
        "decision_spread_ms": percentiles_ms(spreads),
        "decision_latency_ms": percentiles_ms(latencies) if room_minus_wall is not None else None,
        "phones_decided": phones_decided,
    }


async def _vote(
    client: PhoneClient, vote: wire.VoteOpen, order: tuple[str, ...], report: BotReport
) -> None:
    started = time.perf_counter()
    tapped = time.monotonic()
    reply = await client.vote(vote.choice, *ballot(vote.ballot, order))
    report.votes += 1
    if isinstance(reply, wire.VoteAck):
        report.ack_s.append(time.perf_counter() - started)
        report.acked_at.append(time.time())
        return
    report.rejected.append(reply.code)
    clock = client.clock
    if reply.code == "window-closed" and (
        clock.room_time(tapped) + clock.error_bound_at(tapped) < vote.closes_at
    ):
        report.refused_in_time += 1


async def _camera(
    client: PhoneClient, rng: random.Random, every_s: float, report: BotReport
) -> None:
    """A random walk of affect numbers, as a phone analysing its own camera would send."""
    valence, arousal, engagement = rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3), 0.6
    while True:
        await client.affect(valence, arousal, engagement)
        report.affect_sent += 1
        await asyncio.sleep(every_s * rng.uniform(0.8, 1.2))
        valence = min(1.0, max(-1.0, valence + rng.gauss(0, 0.15)))
        arousal = min(1.0, max(-1.0, arousal + rng.gauss(0, 0.15)))
        engagement = min(1.0, max(0.0, engagement + rng.gauss(0, 0.1)))


__all__ = [
    "PERSONAS",
    "BotReport",
    "Persona",
    "PlannedVote",
    "Seen",
    "Watch",
    "ballot",
    "latency_figures",
    "percentiles_ms",
    "personas_for",
    "plan_votes",
    "run_bot",
]
