"""What a room's screening tells its film: which clip plays next, and from when.

The screening decides; the film only follows (DESIGN.md, "How one vote flows", step 5):

- `OpenVote`: every clip an option could lead to (each scene's main cut and its
  variants) is pre-read, so the switch at the scene boundary has no gap;
- `Decide`: the chosen scene's main cut is scheduled for the boundary, the end of the
  scene that plays now, well before it is due;
- `PlayScene`: the scene actually starts. Usually that is what was scheduled and nothing
  happens; a variant (chosen at scene start, from the room's mood) replaces the main cut
  at the same instant; anything else (the first scene, a host's skip) is a hard cut.

A generated fill-in clip (`fill_in`, from an accepted `FillIn`) joins the pre-read
clips and, if its scene is the one decided, replaces the cut scheduled for the boundary;
decided later, its scene is scheduled with the clip straight away.

The film itself is opened on first use (``open_film``): a room waiting for its host needs
no film yet, and `mobile_bridge.film` loads aiortc and PyAV, a quarter of a second that
`kinoroom serve` does not spend before it answers (the services load them in a thread
as soon as they run, `server.services.Services.media`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from narrative.events import Command, Decide, OpenVote, PlayScene
from narrative.story import Story

if TYPE_CHECKING:
    from mobile_bridge.film import Film


def open_film(clock: Callable[[], float], media_dir: Path) -> Film:
    """A room's film on ``clock`` (the room clock), reading clips from ``media_dir``."""
    from mobile_bridge.film import Film, media_dir_lookup

    return Film(clock, media_dir_lookup(media_dir))


class FilmCues:
    def __init__(self, story: Story, open_film: Callable[[], Film]) -> None:
        self._story = story
        self._open_film = open_film
        self._film: Film | None = None
        self._playing: PlayScene | None = None
        self._scheduled: tuple[str, float] | None = None  # (clip, starts_at) queued next
        self._next: str | None = None  # the scene decided to come next
        self._candidates: list[str] = []  # pre-read for the coming boundary
        self._fill_ins: dict[str, str] = {}  # scene -> generated clip, for the coming boundary

    @property
    def film(self) -> Film:
        """The room's film, opened now if it was not."""
        if self._film is None:
            self._film = self._open_film()
        return self._film

    @property
    def epoch(self) -> float | None:
        """Room time of the film's timestamp 0; None until its first scene is scheduled."""
        return self._film.timeline.origin if self._film is not None else None

    async def close(self) -> None:
        if self._film is not None:
            await self._film.close()

    def feed(self, command: Command) -> None:
        match command:
            case OpenVote(choice=choice, options=options):
                spec = self._story.scene(choice).choice
                assert spec is not None
                goto = {o.id: o.goto for o in spec.options}
                self._candidates = [clip for o in options for clip in self._clips(goto[o])]
                self.film.prepare([*self._candidates, *self._fill_ins.values()])
            case Decide(goto=goto) if self._playing is not None:
                clip = self._fill_ins.get(goto, self._story.scene(goto).media)
                self._next = goto
                self._scheduled = (clip, self._playing.ends_at)
                self.film.next(clip, self._playing.ends_at)
            case PlayScene(media=media, starts_at=starts_at):
                scheduled, self._scheduled = self._scheduled, None
                if scheduled is not None and scheduled[1] == starts_at:
                    if scheduled[0] != media:
                        self.film.next(media, starts_at)  # a variant, at the same boundary
                else:
                    self.film.play(media, starts_at)
                self._playing = command
                self._next = None
                self._candidates = []
                self._fill_ins.clear()

    def fill_in(self, scene: str, clip: str) -> None:
        """A generated clip for ``scene`` is ready before the coming boundary."""
        self._fill_ins[scene] = clip
        if self._next == scene and self._scheduled is not None:
            self._scheduled = (clip, self._scheduled[1])
            self.film.prepare([clip])  # so that `next` keeps it pre-read
            self.film.next(clip, self._scheduled[1])
        else:
            self.film.prepare([*self._candidates, *self._fill_ins.values()])

    def _clips(self, scene_id: str) -> list[str]:
        scene = self._story.scene(scene_id)
        return [scene.media, *(v.media for v in scene.variants if v.media is not None)]


__all__ = ["FilmCues", "open_film"]
