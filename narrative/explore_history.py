"""What the explore policy learns from one screening to the next.

After a screening, `record` folds its commands into the bandit's history: each decision
is one play of the chosen option, rewarded with the mean engagement the room showed
during the scene that option led to (the branch it actually watched). A decision whose
branch had no camera reading is left out rather than rewarded 0: a room without cameras
says nothing about whether the branch worked, and counting it as a failure would steer
every later room away from branches that happened to play to phones without cameras.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from narrative.events import Command, Decide, MoodReport, PlayScene
from narrative.ids import ChoiceId, OptionId, SceneId
from narrative.policies import ArmStats

History = dict[ChoiceId, dict[OptionId, ArmStats]]


def record(
    history: Mapping[ChoiceId, Mapping[OptionId, ArmStats]], commands: Iterable[Command]
) -> History:
    """A new history with this screening's plays and rewards added (``history`` is kept)."""
    result: History = {choice: dict(arms) for choice, arms in history.items()}
    decided: dict[SceneId, tuple[ChoiceId, OptionId]] = {}  # branch scene → its decision
    playing: dict[SceneId, tuple[ChoiceId, OptionId]] = {}  # ...once that scene started
    for command in commands:
        match command:
            case Decide(choice=choice, option=option, goto=goto):
                decided[goto] = (choice, option)
            case PlayScene(scene=scene) if scene in decided:
                playing[scene] = decided.pop(scene)
            case MoodReport(scene=scene, viewers=viewers, engagement=engagement) if (
                scene in playing
            ):
                choice, option = playing.pop(scene)
                if viewers > 0:
                    arms = result.setdefault(choice, {})
                    old = arms.get(option, ArmStats(0, 0.0))
                    reward = min(1.0, max(0.0, engagement))
                    arms[option] = ArmStats(old.plays + 1, old.reward + reward)
            case _:
                pass
    return result


__all__ = ["History", "record"]
