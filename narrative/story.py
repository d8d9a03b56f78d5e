"""Story format v1: the pydantic model of a branching film (YAML or JSON, same model).

A story is a graph of scenes. Each scene plays a clip for ``duration`` seconds and then
goes on by ``next`` or by a ``choice`` the room votes on while the scene plays. The model
checks shapes only; graph properties (dead ends, locked-scene bypasses, endings) are the
validator's (`narrative.validate`). The JSON Schema published by ``kinoroom story
schema`` is generated from these classes, so the two cannot drift apart.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from narrative.expressions import Value
from narrative.ids import OptionId, SceneId
from narrative.reading import DEFAULT_WPM, TextLook, reading_seconds, text_look

Identifier = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_-]*$", max_length=64, description="letters, digits, _ and -"
    ),
]
VariableName = Annotated[
    str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=64, description="a variable name")
]
VariableValue = bool | int | float | str
ExpressionSource = Annotated[
    bool | int | float | str,
    Field(
        description="an expression (README: Expressions); YAML booleans and numbers are constants"
    ),
]
MoodLevel = Literal["low", "mid", "high"]
MoodDimension = Literal["valence", "arousal", "engagement"]
Seconds = Annotated[float, Field(ge=0)]
PositiveSeconds = Annotated[float, Field(gt=0)]

SCHEMA_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


class Variant(_Model):
    """An adaptive cut: when ``when`` holds at scene start, play this media and/or gain."""

    when: ExpressionSource
    media: str | None = Field(None, min_length=1)
    music_gain_db: float | None = Field(None, ge=-60, le=12)

    @model_validator(mode="after")
    def _changes_something(self) -> Variant:
        if self.media is None and self.music_gain_db is None:
            raise ValueError("a variant sets media, music_gain_db or both")
        return self


HexColour = Annotated[
    str, Field(pattern=r"^#[0-9A-Fa-f]{6}$", description="an sRGB colour, #rrggbb")
]
Backend = Literal["montage", "text", "diffusion"]


class Generate(_Model):
    """A fill-in scene made while the room watches (``genmodels``): when a vote opens whose
    options lead here, a job is queued with the scene's start as its deadline. The scene's
    ``media`` is the fallback: it plays whenever the generated clip is late, failed, or
    misses the story's style threshold."""

    backend: Backend = Field(
        "montage", description="montage (CPU), text (a caption card), diffusion (GPU)"
    )
    prompt: str = Field(min_length=1, max_length=2000, description="what to make")
    seed: int | None = Field(None, ge=0, description="fixed seed; default derived from the room's")
    sources: list[str] = Field(
        default_factory=list,
        description="clips the montage cuts from "
        "(default: the style's references, else this scene's media)",
    )
    title: str | None = Field(None, min_length=1, max_length=200, description="title card text")
    model: str | None = Field(
        None, min_length=1, description="model id or path; default the worker's"
    )


class Style(_Model):
    """The director's look, which generated shots must keep (the style anchor)."""

    references: list[str] = Field(min_length=1, description="clips whose frames define the look")
    palette: list[HexColour] = Field(default_factory=list, description="the film's key colours")
    grain: float = Field(0.0, ge=0, le=1, description="film grain, 0 clean to 1 heavy")
    pacing_s: float | None = Field(None, gt=0, description="typical shot length, seconds")
    threshold: float = Field(0.6, ge=0, le=1, description="lowest style score a clip may have")


Word = Annotated[
    str, Field(min_length=1, max_length=40, pattern=r"^[^,#\n]+$", description="a word or two")
]


class About(_Model):
    """What the film is, in its author's words: read by the recommender (``recommend/``),
    shown in its reasons, never by the screening."""

    genre: list[Word] = Field(
        default_factory=list, max_length=5, description="genres, e.g. thriller, comedy"
    )
    themes: list[Word] = Field(
        default_factory=list, max_length=10, description="what it is about, e.g. trust, winter"
    )
    tags: list[Word] = Field(
        default_factory=list, max_length=20, description="anything else, e.g. night, trains"
    )
    summary: str | None = Field(None, min_length=1, max_length=500, description="a sentence or two")


class Option(_Model):
    id: Identifier
    label: str = Field(min_length=1, max_length=80)
    goto: Identifier
    if_: ExpressionSource | None = Field(None, alias="if", description="hidden while false")
    set: dict[VariableName, ExpressionSource] = Field(default_factory=dict)
    mood: dict[MoodDimension, MoodLevel | float] = Field(
        default_factory=dict, description="the mood this branch suits, for the mood policy"
    )

    @property
    def option_id(self) -> OptionId:
        return OptionId(self.id)


class Choice(_Model):
    at: Seconds = Field(description="seconds into the scene when the vote opens")
    window: PositiveSeconds = Field(description="seconds the vote stays open")
    prompt: str = Field(min_length=1, max_length=200)
    default: Identifier = Field(description="option used when nobody votes: the director's cut")
    policy: str | None = Field(
        None, description="consensus policy for this vote (room's otherwise)"
    )
    quorum: float = Field(0.0, ge=0, le=1, description="fraction of present phones that must vote")
    options: list[Option] = Field(description="2 to 5 options ('limited open')")


class Reading(_Model):
    """How text scenes read: their pace and colours (README: Text scenes)."""

    words_per_minute: float = Field(
        DEFAULT_WPM, ge=60, le=1000, description="reading pace of text scenes"
    )
    background: HexColour | None = Field(
        None, description="text scenes' background; default the style's first colour"
    )
    colour: HexColour | None = Field(
        None, description="text scenes' words; default the style's second colour"
    )


class Scene(_Model):
    media: str | None = Field(None, min_length=1, description="clip id or path")
    text: str | None = Field(
        None,
        min_length=1,
        max_length=4000,
        description="words shown on the screen and phones; without media, a text scene",
    )
    duration: PositiveSeconds = Field(
        description="seconds; a text scene without one lasts its reading time"
    )
    locked: bool = Field(False, description="a core scene every playthrough must pass through")
    ending: bool = False
    set: dict[VariableName, ExpressionSource] = Field(default_factory=dict)
    variants: list[Variant] = Field(default_factory=list)
    generate: Generate | None = Field(
        None, description="made while the room watches; media is the fallback"
    )
    next: Identifier | None = None
    choice: Choice | None = None

    @model_validator(mode="after")
    def _one_way_on(self) -> Scene:
        if self.media is None and self.text is None:
            raise ValueError("a scene plays media, shows text, or both")
        if self.next is not None and self.choice is not None:
            raise ValueError("a scene has either next or choice, not both")
        if self.ending and (self.next is not None or self.choice is not None):
            raise ValueError("an ending scene has no next or choice")
        return self

    def targets(self) -> tuple[SceneId, ...]:
        """Scenes this one can lead to, ignoring conditions."""
        if self.next is not None:
            return (SceneId(self.next),)
        if self.choice is not None:
            return tuple(SceneId(o.goto) for o in self.choice.options)
        return ()


class Story(_Model):
    kinoroom: Literal[1] = Field(description="story format version")
    title: str = Field(min_length=1, max_length=200)
    start: Identifier
    variables: dict[VariableName, VariableValue] = Field(default_factory=dict)
    shared_ending: bool = Field(False, description="every playthrough must reach the same ending")
    style: Style | None = Field(None, description="the look generated scenes must keep")
    reading: Reading | None = Field(None, description="pace and colours of text scenes")
    about: About | None = Field(None, description="genre, themes, tags: what the film is")
    scenes: dict[Identifier, Scene] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _text_durations(cls, data: Any) -> Any:
        """A text scene without a duration lasts its reading time at the story's pace."""
        if not isinstance(data, Mapping) or not isinstance(data.get("scenes"), Mapping):
            return data
        reading = data.get("reading")
        wpm = reading.get("words_per_minute", DEFAULT_WPM) if isinstance(reading, Mapping) else None
        if not isinstance(wpm, int | float) or isinstance(wpm, bool) or not 60 <= wpm <= 1000:
            wpm = DEFAULT_WPM  # a bad pace is the schema's to report, not ours
        scenes = dict(data["scenes"])
        for scene_id, scene in scenes.items():
            if isinstance(scene, Mapping) and "duration" not in scene:
                text = scene.get("text")
                if isinstance(text, str) and text.strip():
                    scenes[scene_id] = {**scene, "duration": reading_seconds(text, wpm)}
        return {**data, "scenes": scenes}

    def scene(self, scene_id: str) -> Scene:
        return self.scenes[scene_id]

    def look(self) -> TextLook:
        """Colours of this story's text scenes (`narrative.reading.text_look`)."""
        reading = self.reading or Reading()
        palette = self.style.palette if self.style is not None else []
        return text_look(reading.background, reading.colour, palette)

    # -- a graph is its own plot (`narrative.plot.Plot`): it keeps no state ------------

    def plot(self, seed: int = 0) -> Story:
        """What a screening walks: the graph itself (a program would start a run here)."""
        return self

    def enter(self, scene_id: str) -> tuple[str, ...]:
        """A screening starts ``scene_id``: nothing to run, no fault."""
        return ()

    def plot_state(self) -> dict[str, object] | None:
        return None

    def load_plot_state(self, data: object) -> None:
        """Nothing to load: a graph's screening state is all in the `Screening`."""

    def live_variables(self) -> Mapping[str, Value]:
        """No variables of its own: a graph's variables are the screening's."""
        return {}

    def digest(self) -> str:
        """A stable fingerprint: snapshots refuse to restore onto a different story."""
        data = self.model_dump(mode="json", by_alias=True)
        # Fields added since v1 first shipped count only when set: older digests hold.
        for key in ("style", "reading", "about"):
            if data[key] is None:
                del data[key]
        for scene in data["scenes"].values():
            for key in ("generate", "text"):
                if scene[key] is None:
                    del scene[key]
        canonical = json.dumps(data, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def json_schema() -> dict[str, object]:
    """The published JSON Schema of story format v1."""
    schema = Story.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://kinoroom.invalid/schema/story-v1.json"
    return schema


__all__ = [
    "SCHEMA_VERSION",
    "About",
    "Backend",
    "Choice",
    "Generate",
    "Option",
    "Reading",
    "Scene",
    "Story",
    "Style",
    "Variant",
    "json_schema",
]
