"""What a room's screening tells its film: which clip plays next, and from when.

The screening decides; the film only follows (DESIGN.md, "How one vote flows", step 5):

- `OpenVote`: every clip an option could lead to (each scene's main cut and its
  variants) is pre-read, so the switch at the scene boundary has no gap;
- `Decide`: the chosen scene's main cut is scheduled for the boundary, the end of the
  scene that plays now, well before it is due;
- `PlayScene`: the scene actually starts. Usually that is what was scheduled and nothing
  happens; a variant (chosen at scene start, from the room's mood) replaces the main cut
  at the same instant; anything else (the first scene, a host's skip) is a hard cut.
"""

from __future__ import annotations

from mobile_bridge.film import Film
from narrative.events import Command, Decide, OpenVote, PlayScene
from narrative.story import Story


class FilmCues:
    def __init__(self, story: Story, film: Film) -> None:
        self._story = story
        self.film = film
        self._playing: PlayScene | None = None
        self._scheduled: tuple[str, float] | None = None  # (clip, starts_at) queued next

    def feed(self, command: Command) -> None:
        match command:
            case OpenVote(choice=choice, options=options):
                spec = self._story.scene(choice).choice
                assert spec is not None
                goto = {o.id: o.goto for o in spec.options}
                self.film.prepare([clip for o in options for clip in self._clips(goto[o])])
            case Decide(goto=goto) if self._playing is not None:
                clip = self._story.scene(goto).media
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

    def _clips(self, scene_id: str) -> list[str]:
        scene = self._story.scene(scene_id)
        return [scene.media, *(v.media for v in scene.variants if v.media is not None)]


__all__ = ["FilmCues"]
