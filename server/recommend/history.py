"""A group's stored rooms as `Watched` screenings. Pure.

Only room-level facts go in: the mood per scene, each decision's turnout and where it
led, the room's status. **Completion**: a room whose last known scene (the latest mood
or decision) leads by ``next`` alone to an ending reached the end (1); an ink story,
whose scenes the database does not name, reached it when the room decided as many votes
as its director's cut has; otherwise it saw the share of its votes it decided, halved
(it stopped early). A room that never played (no decision, no mood, not ended) is not a
screening yet.
"""

from __future__ import annotations

from collections.abc import Mapping

from narrative.story import Story
from server.persistence.groups import GroupScreening
from server.recommend.film import FilmProfile
from server.recommend.taste import SceneMood, Watched

MAX_STEPS = 500


def watched_of(
    screening: GroupScreening, profile: FilmProfile, story: Story | None
) -> Watched | None:
    """The screening as the recommender counts it; None when it never played."""
    if not screening.moods and not screening.decisions and screening.status != "ended":
        return None
    votes = max(1.0, profile.values.get("choices", 1.0))
    decided = len(screening.decisions)
    ink_done = story is None and screening.status == "ended" and decided >= votes
    if ink_done or _reached_an_ending(screening, story):
        completed = 1.0
    else:
        completed = 0.5 * min(1.0, decided / votes)
    shares = [d.voted / d.present for d in screening.decisions if d.present > 0]
    moods = tuple(
        SceneMood(m.scene, m.valence, m.arousal, m.engagement, m.viewers) for m in screening.moods
    )
    return Watched(
        group=screening.group_id,
        story_id=screening.story_id,
        room=screening.room_code,
        completed=completed,
        turnout=sum(shares) / len(shares) if shares else None,
        moods=moods,
    )


def _reached_an_ending(screening: GroupScreening, story: Story | None) -> bool:
    if story is None:
        return False
    known: list[tuple[float, str]] = [(m.at, m.scene) for m in screening.moods]
    known += [(d.at, d.goto) for d in screening.decisions]
    if not known:
        return False
    scene_id = max(known)[1]
    for _ in range(MAX_STEPS):
        scene = story.scenes.get(scene_id)
        if scene is None or scene.choice is not None:
            return False
        if scene.ending:
            return True
        if scene.next is None:
            return False
        scene_id = scene.next
    return False


def history_of(
    screenings: list[GroupScreening],
    profiles: Mapping[int, FilmProfile],
    stories: Mapping[int, Story | None],
) -> list[Watched]:
    """Every screening of every group whose story is in the library."""
    found = []
    for s in screenings:
        if s.story_id in profiles:
            watched = watched_of(s, profiles[s.story_id], stories.get(s.story_id))
            if watched is not None:
                found.append(watched)
    return found


__all__ = ["history_of", "watched_of"]
