"""Every kind of story file Kinoroom reads, told apart by content: one door for all.

========  ==================================================  ==========================
format    what it is                                          how it is screened
========  ==================================================  ==========================
``yaml``  a Kinoroom story (`narrative.story`), YAML          as a graph
``json``  the same model in JSON                              as a graph
``ink``   a compiled ink story (``.ink.json``, BOM or not)    by the ink runtime
``twee``  a Twine story in Twee 3                             converted to a graph
========  ==================================================  ==========================

The format comes from the text, never from a file name or a field a client sets:
a JSON object with ``inkVersion`` and ``root`` is ink; a text with ``::`` passage
headers and no ``kinoroom:`` key is Twee; anything else starting with ``{`` is JSON,
the rest YAML. Errors point where a writer edits: the YAML or JSON line, the Twee line,
the ink path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from narrative.diagnostics import Diagnostic
from narrative.diagram import Graph, story_graph
from narrative.errors import StoryError
from narrative.ink_explore import DEFAULT_LIMIT, explore
from narrative.ink_story import InkStory, looks_like_ink, read_ink
from narrative.story import Story
from narrative.storyfile import read_story
from narrative.twee import looks_like_twee
from narrative.twee_import import import_twee
from narrative.validate import check_story, load_story

StoryFormat = Literal["yaml", "json", "ink", "twee"]
Source = Story | InkStory
MediaExists = Callable[[str], bool]


def detect_format(text: str) -> StoryFormat:
    """Which kind of story ``text`` is (module docstring)."""
    if looks_like_ink(text):
        return "ink"
    if looks_like_twee(text):
        return "twee"
    return "json" if text.lstrip("\ufeff \t\r\n").startswith("{") else "yaml"


def load_source(text: str, file: str = "<story>") -> Source:
    """The story in ``text``, of any format, if it has no errors (warnings are allowed).

    An ink story is only checked for being one here; its exploration is `check_source`'s.

    Raises:
        StoryError: the story has at least one error; ``diagnostics`` lists them.
    """
    match detect_format(text):
        case "ink":
            return read_ink(text, file)
        case "twee":
            imported = import_twee(text, file)
            if imported.story is None:
                raise StoryError(file, imported.diagnostics)
            return imported.story
        case _:
            return load_story(text, file)


def check_source(
    text: str,
    file: str,
    media_exists: MediaExists | None = None,
    *,
    limit: int = DEFAULT_LIMIT,
) -> list[Diagnostic]:
    """Every diagnostic of a story of any format; never raises on bad input.

    Args:
        media_exists: when given, clips naming no media are ``missing-media`` warnings.
        limit: choice points an ink story's exploration may visit (`narrative.ink_explore`).
    """
    match detect_format(text):
        case "ink":
            try:
                story = read_ink(text, file)
            except StoryError as exc:
                return list(exc.diagnostics)
            return explore(story, file, limit=limit, media_exists=media_exists)[0]
        case "twee":
            return list(import_twee(text, file, media_exists).diagnostics)
        case _:
            return check_story(read_story(text, file), media_exists)


@dataclass(frozen=True, slots=True)
class Stored:
    """A story as the server keeps it: Twee as the YAML it converts to (a writer goes on
    from there), a compiled ink story as its JSON (``fmt`` is the text's syntax: every
    reader tells the kinds apart by content)."""

    source: str
    fmt: Literal["yaml", "json"]
    title: str
    digest: str
    story: Source


def for_storage(
    text: str, file: str, *, limit: int = DEFAULT_LIMIT, explore_ink: bool = True
) -> Stored:
    """Validate a story of any format for keeping (an ink story: by its exploration).

    Args:
        limit: choice points an ink story's exploration may visit.
        explore_ink: False for a story known to be sound (a bundled one, explored in full
            by the tests): a server then starts without spending a second on it.

    Raises:
        StoryError: the story has errors.
    """
    fmt = detect_format(text)
    if fmt == "ink":
        story = read_ink(text, file)
        diagnostics = explore(story, file, limit=limit)[0] if explore_ink else []
        if any(d.severity == "error" for d in diagnostics):
            raise StoryError(file, diagnostics)
        return Stored(story.compiled, "json", story.title, story.digest(), story)
    if fmt == "twee":
        imported = import_twee(text, file)
        if imported.story is None:
            raise StoryError(file, imported.diagnostics)
        story_model = imported.story
        return Stored(imported.source, "yaml", story_model.title, story_model.digest(), story_model)
    model = load_story(text, file)
    return Stored(text, "json" if fmt == "json" else "yaml", model.title, model.digest(), model)


def graph_of(text: str, file: str, *, limit: int = DEFAULT_LIMIT) -> Graph:
    """The graph `kinoroom story graph` draws: a graph story's scenes, or the choice points
    an ink story's exploration reached.

    Raises:
        StoryError: the story cannot be read.
    """
    source = load_source(text, file)
    if isinstance(source, Story):
        return story_graph(source)
    graph = Graph(source.title, "")
    explore(source, file, limit=limit, graph=graph)
    return graph


__all__ = [
    "MediaExists",
    "Source",
    "Stored",
    "StoryFormat",
    "check_source",
    "detect_format",
    "for_storage",
    "graph_of",
    "load_source",
]
