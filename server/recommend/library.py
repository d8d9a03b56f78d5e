"""A stored story as a `FilmProfile`: its clips' measures, its structure, its words.

Any format: a Kinoroom story file gives every scene (a clip scene its clip's measures, a
text scene ``words`` 1); an ink story, a program with no scene list, gives the scenes
of its director's cut (the screening run with nobody voting), whose clips are those its
``# clip:`` tags name. Structure: the votes and the length of that director's cut, and
the endings (a story file's ending scenes; the endings an ink story's bounded
exploration reached). Words: a story file's ``about`` block; an ink story's global tags
``# genre:``, ``# themes:``, ``# tags:`` (comma-separated).

CPU work with no I/O (an ink story runs its runtime): callers use a worker thread.
"""

from __future__ import annotations

from collections.abc import Mapping

from narrative.diagram import Graph
from narrative.errors import NarrativeError
from narrative.events import Ended, OpenVote, PlayScene
from narrative.ink_explore import explore
from narrative.ink_story import InkStory
from narrative.ink_tags import split_tag
from narrative.simulation import Simulation, SimulationConfig
from narrative.sources import load_source
from narrative.story import Story
from server.recommend.film import FilmProfile, SceneLook, film_values
from server.recommend.measure import ClipMeasure

EXPLORE_LIMIT = 200  # choice points an ink story's endings are counted over


def scene_values(media: str | None, measures: Mapping[str, ClipMeasure]) -> dict[str, float]:
    """A scene's features: a text scene is words; a clip scene what its clip measured."""
    if media is None:
        return {"words": 1.0}
    measure = measures.get(media)
    if measure is None:
        return {"words": 0.0}
    values = {
        "words": 0.0,
        "shot_s": measure.shot_s,
        "motion": measure.motion,
        "lightness": measure.lightness,
        "colourfulness": measure.colourfulness,
    }
    if measure.loudness_lufs is not None:
        values["loudness_lufs"] = measure.loudness_lufs
    if measure.tempo_bpm is not None:
        values["tempo_bpm"] = measure.tempo_bpm
    return values


def profile_of(
    story_id: int, digest: str, source: str, measures: Mapping[str, ClipMeasure]
) -> FilmProfile:
    """The profile of one stored story (module docstring).

    Raises:
        StoryError: the source does not load (a stored story always does).
    """
    story = load_source(source, f"story-{story_id}")
    cut = _directors_cut(story)
    if isinstance(story, Story):
        looks = {
            scene_id: SceneLook(scene_id, scene.duration, scene_values(scene.media, measures))
            for scene_id, scene in story.scenes.items()
        }
        endings = sum(scene.ending for scene in story.scenes.values())
        about = story.about
        genre, themes, tags = (
            (tuple(about.genre), tuple(about.themes), tuple(about.tags)) if about else ((), (), ())
        )
    else:
        looks = {
            scene: SceneLook(scene, duration, scene_values(media, measures))
            for scene, media, duration in cut.scenes
        }
        endings = _ink_endings(story)
        genre, themes, tags = _ink_words(story)
    structure = {
        "choices": float(cut.votes),
        "endings": float(endings),
        "length_min": cut.length_s / 60.0,
    }
    measured = any("shot_s" in look.values for look in looks.values())
    return FilmProfile(
        story_id=story_id,
        digest=digest,
        title=story.title,
        values=film_values(looks.values(), structure),
        genre=genre,
        themes=themes,
        tags=tags,
        scenes=looks,
        measured=measured,
    )


class _Cut:
    def __init__(self) -> None:
        self.scenes: list[tuple[str, str | None, float]] = []
        self.votes = 0
        self.length_s = 0.0


def _directors_cut(story: Story | InkStory) -> _Cut:
    """The screening with no phones: every vote goes to the director's cut."""
    cut = _Cut()
    simulation = Simulation(story, SimulationConfig(phones=0, camera_share=0.0))
    for step in simulation.run():
        for command in step.commands:
            if isinstance(command, PlayScene):
                cut.scenes.append(
                    (command.scene, command.media, command.ends_at - command.starts_at)
                )
                cut.length_s = max(cut.length_s, command.ends_at)
            elif isinstance(command, OpenVote):
                cut.votes += 1
            elif isinstance(command, Ended):
                cut.length_s = max(cut.length_s, command.at)
    return cut


def _ink_endings(story: InkStory) -> int:
    graph = Graph(story.title, "")
    try:
        explore(story, "story.ink.json", limit=EXPLORE_LIMIT, graph=graph)
    except NarrativeError:
        return 1
    return max(1, sum(node.ending for node in graph.nodes.values()))


def _ink_words(story: InkStory) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    from narrative.ink_runtime import InkRuntime
    from narrative.ink_story import strip_bom

    found: dict[str, list[str]] = {"genre": [], "themes": [], "tags": []}
    for tag in InkRuntime(strip_bom(story.compiled)).global_tags():
        key, value = split_tag(tag)
        key = {"theme": "themes", "tag": "tags"}.get(key, key)
        if key in found:
            found[key] += [w.strip() for w in value.split(",") if w.strip()][:20]
    return tuple(found["genre"]), tuple(found["themes"]), tuple(found["tags"])


__all__ = ["EXPLORE_LIMIT", "profile_of", "scene_values"]
