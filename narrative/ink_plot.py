"""An ink story's run for one screening: the runtime behind the `Plot` interface.

Theory of operation. The plot keeps one Blade Ink runtime (`narrative.ink_runtime`) and
the **current turn**: the runtime's state at the turn's start, the turn's scenes
(`narrative.ink_scenes`) and, while it is exact, the state at its choice point. It never
runs ahead of the room: the scenes of the turn after a choice point (a *branch*) are
computed the first time a screening, a film cue or a view asks for one of them (a vote
offering options whose first clips are pre-read asks for every one; a text story asks
only for the branch the room chose), from the choice point's state (or the turn's start,
run again: `InkRuntime` explains when). `enter` of a branch's first scene is the room's
decision taking effect: that branch becomes the current turn, the others are dropped.

Exactness. The runtime is seeded from the room (`InkRuntime.seed`), so ink's RANDOM and
shuffles replay. `plot_state` keeps the turn's start state and scenes, the globals at its
choice point and the choice scene of the turn before (what a restored room shows as the
latest decision); `load_plot_state` puts them back, so a restored screening continues at
the same line with the same variables, and its next branches come out as they would
have. Choice scenes of earlier turns are kept in memory (a few hundred bytes a turn) so
that a report replaying the whole log can label every decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from narrative.errors import SnapshotError
from narrative.expressions import Value
from narrative.ink_runtime import InkRuntime, Turn
from narrative.ink_scenes import build_turn, child_turn, scene_id, turn_of
from narrative.reading import TextLook, text_look
from narrative.story import Scene, Style

if TYPE_CHECKING:
    from narrative.ink_story import InkStory

PLOT_VERSION = 1


@dataclass(slots=True)
class _Turn:
    id: str
    start: str  # runtime state at the turn's start
    scenes: tuple[Scene, ...]
    faults: tuple[str, ...]
    variables: dict[str, Value]  # the globals at its choice point (or end)
    end: str | None  # runtime state at its choice point, when reloading it is exact


class InkPlot:
    """One screening's run of ``story`` (module docstring); ``seed`` seeds ink's chance."""

    def __init__(self, story: InkStory, seed: int = 0) -> None:
        self.ink = story
        self._runtime = InkRuntime(story.compiled)
        self._runtime.seed(seed)
        self._current = self._run("0", self._runtime.state())
        self._branches: dict[str, _Turn] = {}
        self._past: dict[str, Scene] = {}  # choice scenes of turns played before
        self._known = _index(self._current)  # scene id -> scene: votes look one up each

    # -- what a screening reads ------------------------------------------------------

    @property
    def title(self) -> str:
        return self.ink.title

    @property
    def start(self) -> str:
        return scene_id("0", 0)

    @property
    def variables(self) -> Mapping[str, bool | int | float | str]:
        return {}  # ink keeps its own (`live_variables`); the screening keeps none

    @property
    def style(self) -> Style | None:
        return None

    @property
    def scenes(self) -> Mapping[str, Scene]:
        known = dict(self._past)
        for turn in (self._current, *self._branches.values()):
            known.update({scene_id(turn.id, i): s for i, s in enumerate(turn.scenes)})
        return known

    def scene(self, scene: str) -> Scene:
        known = self._known.get(scene)
        if known is not None:
            return known
        where = turn_of(scene)
        if where is None:
            raise KeyError(scene)
        turn_id, index = where
        turn = self._turn(turn_id)
        if turn is not None and index < len(turn.scenes):
            self._known.update(_index(turn))
            return turn.scenes[index]
        if scene in self._past:
            return self._past[scene]
        raise KeyError(scene)

    def digest(self) -> str:
        return self.ink.digest()

    def look(self) -> TextLook:
        settings = self.ink.settings
        return text_look(settings.background, settings.colour)

    def live_variables(self) -> Mapping[str, Value]:
        return dict(self._current.variables)

    # -- what a screening does -------------------------------------------------------

    def enter(self, scene: str) -> tuple[str, ...]:
        where = turn_of(scene)
        if where is None:
            raise KeyError(scene)
        if where[0] == self._current.id:  # the turn's faults come with its first scene
            return self._current.faults if where[1] == 0 else ()
        turn = self._turn(where[0])
        if turn is None:
            raise KeyError(scene)
        last = len(self._current.scenes) - 1
        self._past[scene_id(self._current.id, last)] = self._current.scenes[last]
        self._current = turn
        self._branches.clear()
        self._known = _index(turn)
        return turn.faults

    def plot_state(self) -> dict[str, object]:
        turn = self._current
        previous = {k: v.model_dump(mode="json", by_alias=True) for k, v in self._past.items()}
        last = list(previous.items())[-1:]
        return {
            "version": PLOT_VERSION,
            "turn": turn.id,
            "start": turn.start,
            "scenes": [s.model_dump(mode="json", by_alias=True) for s in turn.scenes],
            "faults": list(turn.faults),
            "variables": dict(turn.variables),
            "previous": dict(last),
        }

    def load_plot_state(self, data: object) -> None:
        if not isinstance(data, Mapping) or data.get("version") != PLOT_VERSION:
            raise SnapshotError("an ink screening's snapshot has no ink state")
        try:
            self._current = _Turn(
                str(data["turn"]),
                str(data["start"]),
                tuple(Scene.model_validate(s) for s in data["scenes"]),
                tuple(str(f) for f in data["faults"]),
                dict(data["variables"]),
                None,
            )
            self._past = {str(k): Scene.model_validate(v) for k, v in data["previous"].items()}
        except (KeyError, TypeError, ValueError) as exc:
            raise SnapshotError(f"malformed ink state: {exc!r}") from exc
        self._branches.clear()
        self._known = _index(self._current)

    # -- running the program ---------------------------------------------------------

    def _turn(self, turn_id: str) -> _Turn | None:
        """The current turn, or a branch of it (computed on first use); None otherwise."""
        if turn_id == self._current.id:
            return self._current
        if turn_id not in self._branches:
            option = self._option_leading_to(turn_id)
            if option is None:
                return None
            self._branches[turn_id] = self._branch(option, turn_id)
        return self._branches[turn_id]

    def _option_leading_to(self, turn_id: str) -> int | None:
        host = self._current.scenes[-1]
        if host.choice is None:  # one choice: the scene goes on to it by itself
            single = host.next is not None and turn_of(host.next) == (turn_id, 0)
            return 0 if single and child_turn(self._current.id, 0) == turn_id else None
        for index in range(len(host.choice.options)):
            if child_turn(self._current.id, index) == turn_id:
                return index
        return None

    def _branch(self, option: int, turn_id: str) -> _Turn:
        current = self._current
        if current.end is not None:
            self._runtime.load(current.end)
        else:  # the choice point does not reload exactly: run the turn again to it
            self._runtime.load(current.start)
            current.end = self._at_choice_point(self._runtime.run(first=current.id == "0"))
        self._runtime.choose(option)
        return self._run(turn_id, self._runtime.state())

    def _run(self, turn_id: str, start: str) -> _Turn:
        self._runtime.load(start)
        turn = self._runtime.run(first=turn_id == "0")
        built = build_turn(turn_id, turn, self.ink.settings)
        faults = (*self.ink.settings.problems, *built.faults) if turn_id == "0" else built.faults
        return _Turn(
            turn_id, start, built.scenes, faults, self._runtime.variables(),
            self._at_choice_point(turn),
        )  # fmt: skip

    def _at_choice_point(self, turn: Turn) -> str | None:
        return self._runtime.state() if turn.outcome == "choices" and turn.reloadable else None


def _index(turn: _Turn) -> dict[str, Scene]:
    return {scene_id(turn.id, i): scene for i, scene in enumerate(turn.scenes)}


__all__ = ["PLOT_VERSION", "InkPlot"]
