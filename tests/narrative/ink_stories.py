"""The ink test corpus (tests/narrative/ink/) and helpers to screen it."""

from __future__ import annotations

from pathlib import Path

from narrative.ballots import Pick
from narrative.events import Command, Event, Join, OpenVote, Start, Tick, VoteCast
from narrative.ink_story import InkStory, read_ink
from narrative.policies import policy_from_spec
from narrative.screening import Screening

CORPUS = Path(__file__).with_name("ink")
BUNDLED = Path(__file__).parents[2] / "narrative" / "stories" / "lamplighter.ink.json"


def text_of(name: str) -> str:
    path = BUNDLED if name == "lamplighter" else CORPUS / f"{name}.ink.json"
    return path.read_text(encoding="utf-8")


def ink(name: str) -> InkStory:
    return read_ink(text_of(name), f"{name}.ink.json")


def screening(name: str, seed: int = 0, policy: str = "plurality") -> Screening:
    return Screening(ink(name), policy_from_spec({"name": policy}), seed)


def drive(
    s: Screening, picks: list[str], *, until: float = 900.0, step: float = 0.5
) -> list[tuple[Event, list[Command]]]:
    """Screen ``s`` to phone ``p1``: at each vote it picks the next of ``picks`` (option
    ids) as the vote opens, and nobody votes once they run out. Returns every event fed,
    with its commands, in order (a log that replays)."""
    log: list[tuple[Event, list[Command]]] = []
    pending = list(picks)

    def feed(event: Event) -> None:
        commands = s.handle(event)
        log.append((event, commands))
        for command in commands:
            if isinstance(command, OpenVote) and pending:
                feed(VoteCast("p1", command.choice, Pick(pending.pop(0)), 1, event.now))

    feed(Join("p1", 0.0))
    feed(Start(0.0))
    now = 0.0
    while s.phase.value != "ended" and now < until:
        now += step
        feed(Tick(now))
    return log


def commands_of(log: list[tuple[Event, list[Command]]]) -> list[Command]:
    return [c for _, commands in log for c in commands]
