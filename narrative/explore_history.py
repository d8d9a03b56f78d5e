"""What the explore policy learns from one screening to the next.

Each decision is one play of the chosen option, rewarded with the mean engagement the
room showed during the scene that option led to (the branch it actually watched). A
decision whose branch had no camera reading is left out rather than rewarded 0: a room
without cameras says nothing about whether the branch worked, and counting it as a
failure would steer every later room away from branches that happened to play to phones
without cameras.

`ArmTracker` follows a screening's commands as they come (a live room persists each
reward as soon as the branch's scene ends) and snapshots with the room; `record` folds a
whole screening's commands into a history at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from narrative.events import Command, Decide, MoodReport, PlayScene
from narrative.ids import ChoiceId, OptionId, SceneId
from narrative.policies import ArmStats

History = dict[ChoiceId, dict[OptionId, ArmStats]]


@dataclass(frozen=True, slots=True)
class Reward:
    choice: ChoiceId
    option: OptionId
    reward: float  # mean engagement during the branch, 0..1


@dataclass(slots=True)
class ArmTracker:
    """Pairs each decision with the mood report of the branch scene it chose."""

    decided: dict[SceneId, tuple[ChoiceId, OptionId]] = field(default_factory=dict)
    playing: dict[SceneId, tuple[ChoiceId, OptionId]] = field(default_factory=dict)

    def feed(self, command: Command) -> Reward | None:
        match command:
            case Decide(choice=choice, option=option, goto=goto):
                self.decided[goto] = (choice, option)
            case PlayScene(scene=scene) if scene in self.decided:
                # Only now is the branch playing: a choice that loops back to its own scene
                # must not be credited with the mood of the visit that voted.
                self.playing[scene] = self.decided.pop(scene)
            case MoodReport(scene=scene, viewers=viewers, engagement=engagement) if (
                scene in self.playing
            ):
                choice, option = self.playing.pop(scene)
                if viewers > 0:
                    return Reward(choice, option, min(1.0, max(0.0, engagement)))
            case _:
                pass
        return None

    def to_json(self) -> dict[str, list[list[str]]]:
        return {
            "decided": [[s, c, o] for s, (c, o) in self.decided.items()],
            "playing": [[s, c, o] for s, (c, o) in self.playing.items()],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, list[list[str]]]) -> ArmTracker:
        def table(rows: list[list[str]]) -> dict[SceneId, tuple[ChoiceId, OptionId]]:
            return {SceneId(s): (ChoiceId(c), OptionId(o)) for s, c, o in rows}

        return cls(table(data["decided"]), table(data["playing"]))


def add_reward(history: History, reward: Reward) -> None:
    arms = history.setdefault(reward.choice, {})
    old = arms.get(reward.option, ArmStats(0, 0.0))
    arms[reward.option] = ArmStats(old.plays + 1, old.reward + reward.reward)


def record(
    history: Mapping[ChoiceId, Mapping[OptionId, ArmStats]], commands: Iterable[Command]
) -> History:
    """A new history with this screening's plays and rewards added (``history`` is kept)."""
    result: History = {choice: dict(arms) for choice, arms in history.items()}
    tracker = ArmTracker()
    for command in commands:
        if (reward := tracker.feed(command)) is not None:
            add_reward(result, reward)
    return result


__all__ = ["ArmTracker", "History", "Reward", "add_reward", "record"]
