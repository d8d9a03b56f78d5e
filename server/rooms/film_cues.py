"""What a room's screening tells its film: which clip plays next, and from when.

The screening decides; the film only follows (DESIGN.md, "How one vote flows", step 5).
`FilmCues` runs beside the room's core, at its owner, and turns each command into
orders for a film (`FilmOrder`); they go out with the room's broadcast, and every
process that plays the room's film to its pages carries them out on its own `Film`
(`play`), so the film is cued once and played everywhere alike:

- `OpenVote`: every clip an option could lead to (each scene's main cut and its
  variants) is pre-read, so the switch at the scene boundary has no gap;
- `Decide`: the chosen scene's main cut is scheduled for the boundary, the end of the
  scene that plays now, well before it is due;
- `PlayScene`: the scene actually starts. Usually that is what was scheduled and nothing
  happens; a variant (chosen at scene start, from the room's mood) replaces the main cut
  at the same instant; anything else (the first scene, a host's skip) is a hard cut.

A generated fill-in clip (an accepted `FillIn`) joins the pre-read clips and, if its
scene is the one decided, replaces the cut scheduled for the boundary; decided later,
its scene is scheduled with the clip straight away. A scene with no clip (an ink text
scene) is a cut to nothing: the film sends no packets while it plays.

The scenes come from the screening's plot: a story graph, or the run of an ink program,
which alone knows where a choice leads (`narrative.plot`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from narrative.events import Command, Decide, FillIn, OpenVote, PlayScene
from narrative.plot import Plot

if TYPE_CHECKING:
    from mobile_bridge.film import Film


@dataclass(frozen=True, slots=True)
class Prepare:
    clips: tuple[str, ...]  # pre-read these for the coming boundary (and nothing else)


@dataclass(frozen=True, slots=True)
class Next:
    clip: str | None  # play this from ``at``, a boundary: what is playing ends there
    at: float


@dataclass(frozen=True, slots=True)
class Cut:
    clip: str | None  # play this from ``at``, cutting what plays now
    at: float


FilmOrder = Prepare | Next | Cut


def open_film(clock: Callable[[], float], media_dir: Path) -> Film:
    """A room's film on ``clock`` (the room clock), reading clips from ``media_dir``.

    Imported here, on first use: `mobile_bridge.film` loads aiortc and PyAV, a quarter of
    a second `kinoroom serve` does not spend before it answers (the services load them in
    a thread as soon as they run, `server.services.Services.media`).
    """
    from mobile_bridge.film import Film, media_dir_lookup

    return Film(clock, media_dir_lookup(media_dir))


def play(film: Film, orders: Iterable[FilmOrder]) -> None:
    """Carry the orders out on one process's film."""
    for order in orders:
        match order:
            case Prepare(clips=clips):
                film.prepare(list(clips))
            case Next(clip=clip, at=at):
                film.next(clip, at)
            case Cut(clip=clip, at=at):
                film.play(clip, at)


class FilmCues:
    def __init__(self, story: Plot) -> None:
        self._story = story
        self._playing: PlayScene | None = None
        self._scheduled: tuple[str | None, float] | None = None  # (clip, starts_at) next
        self._next: str | None = None  # the scene decided to come next
        self._candidates: list[str] = []  # pre-read for the coming boundary
        self._fill_ins: dict[str, str] = {}  # scene -> generated clip, for the coming boundary

    def feed(self, command: Command | FillIn) -> list[FilmOrder]:
        """The film's orders for one of the screening's commands (or an accepted fill-in)."""
        match command:
            case FillIn(scene=scene, media=media):
                return self._fill_in(scene, media)
            case OpenVote(choice=choice, options=options):
                spec = self._story.scene(choice).choice
                assert spec is not None
                goto = {o.id: o.goto for o in spec.options}
                self._candidates = [clip for o in options for clip in self._clips(goto[o])]
                return [Prepare((*self._candidates, *self._fill_ins.values()))]
            case Decide(goto=goto) if self._playing is not None:
                clip = self._fill_ins.get(goto, self._story.scene(goto).media)
                self._next = goto
                self._scheduled = (clip, self._playing.ends_at)
                return [Next(clip, self._playing.ends_at)]
            case PlayScene(media=media, starts_at=starts_at):
                scheduled, self._scheduled = self._scheduled, None
                orders: list[FilmOrder] = []
                if scheduled is not None and scheduled[1] == starts_at:
                    if scheduled[0] != media:
                        orders.append(Next(media, starts_at))  # a variant, at the same boundary
                else:
                    orders.append(Cut(media, starts_at))
                self._playing = command
                self._next = None
                self._candidates = []
                self._fill_ins.clear()
                return orders
        return []

    def _fill_in(self, scene: str, clip: str) -> list[FilmOrder]:
        """A generated clip for ``scene`` is ready before the coming boundary."""
        self._fill_ins[scene] = clip
        if self._next == scene and self._scheduled is not None:
            self._scheduled = (clip, self._scheduled[1])
            return [Prepare((clip,)), Next(clip, self._scheduled[1])]  # `next` keeps it read
        return [Prepare((*self._candidates, *self._fill_ins.values()))]

    def _clips(self, scene_id: str) -> list[str]:
        scene = self._story.scene(scene_id)
        clips = [scene.media, *(v.media for v in scene.variants)]
        return [clip for clip in clips if clip is not None]


__all__ = ["Cut", "FilmCues", "FilmOrder", "Next", "Prepare", "open_film", "play"]
