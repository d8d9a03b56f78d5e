"""Turn a simulation's steps into what `kinoroom story simulate` prints.

Text mode prints what a host would want to watch scroll by: each scene as it starts,
each vote as it opens, the tally and the reason of each decision, the room's mood per
scene, and a summary of accepted and refused ballots. JSON mode prints one object per
command (`narrative.events.to_json`) so scripts can follow a screening.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

from narrative.events import (
    Decide,
    Ended,
    EventRejected,
    MoodReport,
    OpenVote,
    PlayScene,
    StoryFault,
    VoteAccepted,
    VoteRejected,
    to_json,
)
from narrative.plot import Plot
from narrative.simulation import SimulationConfig, Step


def clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60.0)
    return f"{int(minutes):02d}:{rest:04.1f}"


def _quoted(text: str | None) -> str:
    """A text scene's words, on one line and cut to fit one."""
    words = " ".join((text or "").split())
    return f'"{words if len(words) <= 60 else words[:59] + "…"}"'


def _number(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


class Report:
    def __init__(self, story: Plot, config: SimulationConfig) -> None:
        self.story = story
        self.config = config
        self.accepted = 0
        self.rejected: Counter[str] = Counter()
        self.scenes: list[str] = []
        self.ended_at = 0.0
        self._header_done = False

    def lines(self, step: Step, *, as_json: bool) -> Iterator[str]:
        if not self._header_done:
            self._header_done = True
            if not as_json:
                yield (
                    f'Kinoroom simulation: "{self.story.title}", {self.config.phones} phones, '
                    f"policy {self.config.policy}, seed {self.config.seed}"
                )
        for command in step.commands:
            self._count(command)
            if as_json:
                yield json.dumps(to_json(command))
            else:
                yield from self._text(command)

    def _count(self, command: object) -> None:
        match command:
            case VoteAccepted():
                self.accepted += 1
            case VoteRejected(code=code):
                self.rejected[code] += 1
            case PlayScene(scene=scene):
                self.scenes.append(scene)
            case Ended(at=at):
                self.ended_at = at
            case _:
                pass

    def _text(self, command: object) -> Iterator[str]:
        match command:
            case PlayScene():
                scene = self.story.scene(command.scene)
                flags = [
                    flag for flag, on in (("locked", scene.locked), ("ending", scene.ending)) if on
                ]
                variant = (
                    f", variant {command.variant} (gain {command.music_gain_db:+g} dB)"
                    if command.variant is not None
                    else ""
                )
                extra = f" [{', '.join(flags)}]" if flags else ""
                shows = command.media if command.media is not None else _quoted(command.text)
                yield (
                    f"[{clock(command.starts_at)}] > {command.scene}{extra}: {shows}"
                    f"{variant}, {_number(scene.duration)} s"
                )
            case OpenVote():
                choice = self.story.scene(command.choice).choice
                assert choice is not None
                labels = {o.id: o.label for o in choice.options}
                options = " | ".join(labels[o] for o in command.options)
                yield (
                    f"[{clock(command.opens_at)}]   vote: {choice.prompt}  ({options}), "
                    f"closes {clock(command.closes_at)}"
                )
            case Decide():
                tally = ", ".join(f"{option} {_number(score)}" for option, score in command.tally)
                decided = f"decided: {command.option} -> {command.goto}"
                yield f"[{clock(command.at)}]   {decided}  [{tally}]"
                yield f"             {command.reason}"
            case MoodReport() if command.viewers:
                yield (
                    f"[{clock(command.at)}]   mood in {command.scene}: "
                    f"valence {command.valence:+.2f}, arousal {command.arousal:+.2f}, "
                    f"engagement {command.engagement:.2f} "
                    f"({command.viewers} cameras)"
                )
            case StoryFault():
                yield f"[{clock(command.at)}]   story fault in {command.scene}: {command.message}"
            case EventRejected():
                yield f"[{clock(command.now)}]   refused {command.event}: {command.code}"
            case Ended():
                yield f"[{clock(command.at)}] ended ({command.reason}) at {command.scene}"
            case _:
                pass

    def summary(self, *, as_json: bool) -> Iterator[str]:
        data = {
            "scenes": self.scenes,
            "film_seconds": self.ended_at,
            "votes_accepted": self.accepted,
            "votes_rejected": dict(sorted(self.rejected.items())),
        }
        if as_json:
            yield json.dumps({"type": "Summary", **data})
            return
        refused = ", ".join(f"{n} {code}" for code, n in sorted(self.rejected.items())) or "none"
        yield (
            f"{len(self.scenes)} scenes in {clock(self.ended_at)}: {' > '.join(self.scenes)}; "
            f"{self.accepted} ballots accepted, refused: {refused}"
        )


__all__ = ["Report", "clock"]
