"""A whole screening with simulated phones: the demo, a smoke test and a load source.

Each simulated phone has a seeded taste for every option (some phones agree, some
don't), votes at a random moment inside the window (most of them; some never vote,
some change their mind, a few are late and get refused), and, if its camera is "on",
sends an affect sample every few seconds around the room's current mood. As the server's
room does, the simulation keeps the samples itself (`narrative.mood.LiveMood`) and feeds
the screening the room's mood (`RoomMood`) on each tick where it changed. Ballots take
the shape the choice's policy counts: a ranking for Borda, an approval set for
approval, one option otherwise. Everything is driven by one `random.Random(seed)`,
so a simulation is reproducible.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from narrative.ballots import Approval, Ballot, Pick, Ranking
from narrative.consensus import Policy
from narrative.events import (
    AffectSample,
    Command,
    Ended,
    Event,
    Join,
    Leave,
    OpenVote,
    PlayScene,
    RoomMood,
    Start,
    Tick,
    VoteCast,
)
from narrative.ids import DeviceId, OptionId
from narrative.mood import LiveMood, Sample, mood_to_json
from narrative.plot import Screenable
from narrative.policies import policy_from_spec
from narrative.screening import Screening

TICK_S = 1.0
AFFECT_EVERY_S = 5.0


@dataclass(frozen=True, slots=True)
class SimulationConfig:
    phones: int = 30
    policy: str = "plurality"
    seed: int = 0
    turnout: float = 0.85  # share of phones that vote in a given window
    camera_share: float = 0.5  # share of phones that send affect
    late_share: float = 0.03  # share of voters whose ballot arrives after the deadline
    max_duration_s: float = 4 * 3600.0


@dataclass(order=True, slots=True)
class _Due:
    at: float
    order: int
    event: Event | AffectSample = field(compare=False)


@dataclass(frozen=True, slots=True)
class Step:
    """One event fed to the screening and the commands it produced."""

    event: Event
    commands: tuple[Command, ...]


class Simulation:
    """One simulated screening; ``policy`` overrides ``config.policy`` (explore with history)."""

    def __init__(
        self, story: Screenable, config: SimulationConfig, policy: Policy | None = None
    ) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        policy = policy or policy_from_spec({"name": config.policy})
        self.screening = Screening(story, policy, seed=config.seed)
        self.story = self.screening.story  # the graph, or this run of a program
        self.devices = [DeviceId(f"phone-{i:05d}") for i in range(config.phones)]
        self.present = set(self.devices)
        self.cameras = {d for d in self.devices if self.rng.random() < config.camera_share}
        self.taste: dict[tuple[DeviceId, str], float] = {}
        self._queue: list[_Due] = []
        self._order = 0
        self._room_arousal = 0.0
        self._room_engagement = 0.6
        self.live = LiveMood()

    def _schedule(self, at: float, event: Event | AffectSample) -> None:
        self._order += 1
        heapq.heappush(self._queue, _Due(at, self._order, event))

    def run(self) -> Iterator[Step]:
        """Feed events in time order; yields each with its commands until the story ends."""
        for device in self.devices:
            self._schedule(0.0, Join(device, 0.0))
        self._schedule(0.0, Start(0.0))
        self._schedule(TICK_S, Tick(TICK_S))
        # One phone in ten leaves at some point; the room keeps going without it.
        for device in self.devices[::10][1:]:
            at = round(self.rng.uniform(30.0, 300.0), 2)
            self._schedule(at, Leave(device, at))
        while self._queue:
            due = heapq.heappop(self._queue)
            if due.at > self.config.max_duration_s:
                return
            if isinstance(due.event, AffectSample):
                e = due.event
                self.live.add(Sample(e.device, e.valence, e.arousal, e.engagement, e.now))
                continue
            if isinstance(due.event, Leave):
                self.present.discard(due.event.device)
                self.live.drop(due.event.device)
            events: list[Event] = [due.event]
            if isinstance(due.event, Tick):
                mood = self.live.reading(due.at, present=self.present)
                if mood_to_json(mood) != mood_to_json(self.screening.mood(due.at)):
                    events.insert(0, RoomMood.of(mood, due.at))
            for event in events:
                commands = tuple(self.screening.handle(event))
                yield Step(event, commands)
                for command in commands:
                    self._react(command)
                    if isinstance(command, Ended):
                        return
            if isinstance(due.event, Tick):
                self._on_tick(due.at)

    def _on_tick(self, now: float) -> None:
        next_at = now + TICK_S
        self._schedule(next_at, Tick(next_at))
        if now % AFFECT_EVERY_S < TICK_S:
            for device in sorted(self.cameras & self.present):
                arousal = self._room_arousal + self.rng.gauss(0.0, 0.25)
                valence = self.rng.gauss(0.1, 0.3)
                engagement = min(1.0, max(0.0, self.rng.gauss(self._room_engagement, 0.15)))
                at = now + self.rng.uniform(0.0, TICK_S)
                self._schedule(at, AffectSample(device, valence, arousal, engagement, at))

    def _react(self, command: Command) -> None:
        match command:
            case PlayScene(scene=scene):
                # How a scene grips its audience belongs to the film, not the screening, so
                # it is seeded by the scene alone: every simulated room feels it alike, and
                # the explore policy has something to learn across screenings.
                feel = random.Random(f"scene:{scene}")
                self._room_arousal = feel.uniform(-0.6, 0.6)
                self._room_engagement = feel.uniform(0.3, 0.9)
            case OpenVote():
                self._schedule_votes(command)
            case _:
                pass

    def _schedule_votes(self, vote: OpenVote) -> None:
        choice = self.story.scene(vote.choice).choice
        assert choice is not None
        policy = choice.policy or self.config.policy
        window = vote.closes_at - vote.opens_at
        for device in self.devices:
            if device not in self.present or self.rng.random() >= self.config.turnout:
                continue
            ranked = self._ranked(device, vote.choice, vote.options)
            at = vote.opens_at + self.rng.uniform(0.05, 0.95) * window
            if self.rng.random() < self.config.late_share:
                at = vote.closes_at + self.rng.uniform(0.0, 0.5)
            self._schedule(
                at, VoteCast(device, vote.choice, _ballot(policy, ranked, self.rng), 1, at)
            )
            if self.rng.random() < 0.1:  # changes their mind before the deadline
                later = at + (vote.closes_at - at) * self.rng.random()
                ballot = _ballot(policy, tuple(reversed(ranked)), self.rng)
                self._schedule(later, VoteCast(device, vote.choice, ballot, 2, later))

    def _ranked(
        self, device: DeviceId, choice: str, options: tuple[OptionId, ...]
    ) -> tuple[OptionId, ...]:
        def taste(option: OptionId) -> float:
            key = (device, f"{choice}/{option}")
            if key not in self.taste:
                # Tastes share a per-option pull, so rooms lean one way without being unanimous.
                pull = random.Random(f"{self.config.seed}:{choice}/{option}").gauss(0.0, 1.0)
                self.taste[key] = pull + self.rng.gauss(0.0, 1.0)
            return self.taste[key]

        return tuple(sorted(options, key=taste, reverse=True))


def _ballot(policy: str, ranked: tuple[OptionId, ...], rng: random.Random) -> Ballot:
    if policy == "borda":
        return Ranking(ranked[: max(1, rng.randint(1, len(ranked)))])
    if policy == "approval":
        return Approval(frozenset(ranked[: rng.randint(1, max(1, len(ranked) - 1))]))
    return Pick(ranked[0])


__all__ = ["Simulation", "SimulationConfig", "Step"]
