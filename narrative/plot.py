"""What a `Screening` walks: a story graph, or a running story program.

One state machine screens every kind of story (votes, windows, policies, snapshots,
mood, fill-ins: `narrative.screening`). What differs between a Kinoroom story file and
an ink story is only *what plays next*, and it sits behind this small interface:

- `Plot.scene` answers "what is this scene": its clip or words, its length, how it goes
  on (``next``), and its choice (prompt, options and where each leads, policy, window).
  A graph (`narrative.story.Story`) answers from its file. A program
  (`narrative.ink_plot.InkPlot`) answers from its runtime: the lines up to the next
  choice point become scenes, and each option's target is the scene the program
  reaches when that choice is made, computed when first asked.
- `Plot.enter` is "apply this decision": the screening starts a scene, and a program
  commits to the branch that scene is on (it drops the branches not taken). It returns
  the faults its runtime met producing the scene, which the screening reports as
  `StoryFault` commands.
- `Plot.plot_state` / `Plot.load_plot_state` put a program's state (the ink runtime's
  own JSON) into the screening's snapshot and back, so a restore continues at the same
  line with the same variables. A graph has none.

`Screenable` is what a screening is given: something that starts a `Plot` for one
screening, seeded from the room (a graph is its own plot; a program starts a run).
Pure: a plot reads no clock, file or socket.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from narrative.expressions import Value

if TYPE_CHECKING:
    from narrative.reading import TextLook
    from narrative.story import Scene, Style


class Plot(Protocol):
    """One screening's source of scenes (see the module docstring)."""

    @property
    def title(self) -> str: ...

    @property
    def start(self) -> str:
        """The first scene's id."""
        ...

    @property
    def variables(self) -> Mapping[str, bool | int | float | str]:
        """Initial values of the variables the screening itself keeps (a graph's)."""
        ...

    @property
    def style(self) -> Style | None: ...

    @property
    def scenes(self) -> Mapping[str, Scene]:
        """Every scene known now (a program: the ones it has reached or looked ahead to)."""
        ...

    def scene(self, scene_id: str) -> Scene:
        """The scene ``scene_id``; KeyError when the plot has no such scene."""
        ...

    def digest(self) -> str:
        """The story's fingerprint: a snapshot restores only onto the same story."""
        ...

    def look(self) -> TextLook:
        """Colours of the text scenes."""
        ...

    def enter(self, scene_id: str) -> tuple[str, ...]:
        """The screening starts ``scene_id``; returns fault messages met producing it."""
        ...

    def plot_state(self) -> dict[str, object] | None:
        """JSON-ready state for the screening's snapshot (None: nothing to keep)."""
        ...

    def load_plot_state(self, data: object) -> None:
        """Continue from `plot_state` data. Raises SnapshotError when malformed."""
        ...

    def live_variables(self) -> Mapping[str, Value]:
        """The program's own variables now (a graph has none: they are the screening's)."""
        ...


class Screenable(Protocol):
    """A story a screening can be given: it starts one `Plot` per screening."""

    def plot(self, seed: int = 0) -> Plot:
        """A plot for one screening; ``seed`` seeds the program's chance (ink's RANDOM)."""
        ...

    def digest(self) -> str:
        """The story's fingerprint (the same as its plots')."""
        ...


__all__ = ["Plot", "Screenable"]
