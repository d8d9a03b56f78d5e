"""Semantic checks of a story: everything a well-shaped file can still get wrong.

`narrative.storyfile` checks syntax and shape; this module checks meaning, so that a
room never stalls on a broken story mid-screening. Each problem is reported once,
under one stable code (the README lists them), at the YAML node a writer has to edit:

- references: ``unknown-target`` (start/next/goto naming no scene, at the value);
- scenes: ``dead-end`` (at the scene key); votes: ``options-count`` (at ``options``),
  ``bad-default``, ``bad-window``, ``schema`` (unknown policy, option id given twice,
  mood target out of range, a variable named like a keyword);
- expressions: ``bad-expression``, ``undefined-variable`` (in ``if``, ``when`` and
  ``set``; a variable's type is that of its declared initial value);
- the graph: ``no-ending``, ``locked-bypass``, ``ending-not-shared``, ``trap-cycle``,
  and the warnings ``unreachable`` and ``missing-media``.

The graph checks ignore conditions: every option counts as possible, because whether an
``if`` holds depends on earlier votes and on the room's mood, which the validator cannot
know. A locked scene is thus bypassed if any option path skips it, even one a condition
would hide in every real screening; a writer who means that should restructure it.

To keep one problem to one code, edges to unknown scenes are dropped before the graph
checks, and scenes that already have an error for how they go on (a dead end, an unknown
target) count as exits when looking for traps. When no scene is an ending, only
``no-ending`` is reported of the ending-related checks; when ``start`` names no scene,
no reachability check runs (every scene would be "unreachable").
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from narrative.diagnostics import Diagnostic
from narrative.errors import ExpressionError, StoryError, UndefinedVariable
from narrative.expressions import TypeName, parse, type_of
from narrative.mood import RANGES
from narrative.policies import POLICY_NAMES
from narrative.story import Choice, Scene, Story
from narrative.storyfile import ParsedStory, read_story
from narrative.storygraph import cycles, reachable, reaching, shortest_path
from narrative.yamlpos import Path

# A vote must close this long before its scene ends, so the decision and the first
# frames of the chosen branch are ready at the boundary (DESIGN.md: "no frozen frame").
VOTE_MARGIN_S = 1.0
# Words of the expression language: a variable named like one could never be read.
KEYWORDS = frozenset({"and", "or", "not", "true", "false"})
OPTIONS_MIN, OPTIONS_MAX = 2, 5

MediaExists = Callable[[str], bool]


def check_story(parsed: ParsedStory, media_exists: MediaExists | None = None) -> list[Diagnostic]:
    """Every diagnostic of a read story: those from reading plus the semantic ones.

    Args:
        parsed: the result of `read_story`; it is not modified.
        media_exists: tells whether a media name has a file; when given, media naming
            none is a ``missing-media`` warning (the CLI builds it from ``--media DIR``).

    Returns:
        Diagnostics sorted by (line, col). Semantic checks run only if the shape was right.
    """
    result = ParsedStory(parsed.file, parsed.story, parsed.document, list(parsed.diagnostics))
    if parsed.story is not None:
        _Checker(result, parsed.story).run(media_exists)
    return sorted(result.diagnostics, key=lambda d: (d.line, d.col))


def validate_text(
    text: str, file: str, media_exists: MediaExists | None = None
) -> list[Diagnostic]:
    """Read and check story text (YAML or JSON); never raises on bad input."""
    return check_story(read_story(text, file), media_exists)


def load_story(text: str, file: str = "<story>") -> Story:
    """The story in ``text``, if it has no errors (warnings are allowed).

    Raises:
        StoryError: the story has at least one error; ``diagnostics`` lists all of them.
    """
    parsed = read_story(text, file)
    diagnostics = check_story(parsed)
    if parsed.story is None or any(d.severity == "error" for d in diagnostics):
        raise StoryError(file, diagnostics)
    return parsed.story


class _Checker:
    """One pass over a well-shaped story, recording diagnostics on ``parsed``."""

    def __init__(self, parsed: ParsedStory, story: Story) -> None:
        self.parsed = parsed
        self.story = story
        self.types: dict[str, TypeName] = {n: type_of(v) for n, v in story.variables.items()}

    def run(self, media_exists: MediaExists | None) -> None:
        self._variables()
        for scene_id, scene in self.story.scenes.items():
            self._scene(scene_id, scene)
        self._graph()
        if media_exists is not None:
            self._media(media_exists)

    # -- local checks -------------------------------------------------------------

    def _variables(self) -> None:
        for name in self.story.variables:
            if name in KEYWORDS:
                self.parsed.error(
                    "schema",
                    ("variables", name),
                    f"variables.{name}: '{name}' is a word of the expression language",
                    key=True,
                )

    def _scene(self, scene_id: str, scene: Scene) -> None:
        path: Path = ("scenes", scene_id)
        if not scene.ending and scene.next is None and scene.choice is None:
            self.parsed.error(
                "dead-end",
                path,
                f"scene '{scene_id}' is not an ending but has no next and no choice",
                key=True,
            )
        self._assignments((*path, "set"), scene.set)
        for i, variant in enumerate(scene.variants):
            self._expression((*path, "variants", i, "when"), variant.when, "bool", "variant 'when'")
        if scene.choice is not None:
            self._choice(scene_id, scene.duration, scene.choice)

    def _choice(self, scene_id: str, duration: float, choice: Choice) -> None:
        path: Path = ("scenes", scene_id, "choice")
        count = len(choice.options)
        if not OPTIONS_MIN <= count <= OPTIONS_MAX:
            self.parsed.error(
                "options-count",
                (*path, "options"),
                f"choice in '{scene_id}' has {count} option(s); a vote offers "
                f"{OPTIONS_MIN} to {OPTIONS_MAX}",
                key=True,
            )
        ids: set[str] = set()
        for i, option in enumerate(choice.options):
            where: Path = (*path, "options", i)
            if option.id in ids:
                self.parsed.error(
                    "schema",
                    (*where, "id"),
                    f"option id '{option.id}' is used twice in the choice of '{scene_id}'",
                )
            ids.add(option.id)
            if option.if_ is not None:
                self._expression((*where, "if"), option.if_, "bool", "option 'if'")
            self._assignments((*where, "set"), option.set)
            for dimension, target in option.mood.items():
                low, high = RANGES[dimension]
                if not isinstance(target, str) and not low <= target <= high:
                    self.parsed.error(
                        "schema",
                        (*where, "mood", dimension),
                        f"mood target {dimension} {target} is outside {low:g} … {high:g}",
                    )
        if choice.default not in ids:
            self.parsed.error(
                "bad-default",
                (*path, "default"),
                f"default '{choice.default}' is not one of the options "
                f"({', '.join(o.id for o in choice.options)})",
            )
        if choice.policy is not None and choice.policy not in POLICY_NAMES:
            self.parsed.error(
                "schema",
                (*path, "policy"),
                f"unknown policy '{choice.policy}' (one of {', '.join(POLICY_NAMES)})",
            )
        self._window(scene_id, duration, choice)

    def _window(self, scene_id: str, duration: float, choice: Choice) -> None:
        path: Path = ("scenes", scene_id, "choice")
        if choice.at >= duration:
            self.parsed.error(
                "bad-window",
                (*path, "at"),
                f"the vote opens at {choice.at:g} s but scene '{scene_id}' lasts {duration:g} s",
            )
        elif choice.at + choice.window > duration - VOTE_MARGIN_S:
            self.parsed.error(
                "bad-window",
                (*path, "window"),
                f"the vote closes at {choice.at + choice.window:g} s, less than "
                f"{VOTE_MARGIN_S:g} s before scene '{scene_id}' ends at {duration:g} s",
            )

    def _assignments(self, path: Path, assignments: dict[str, bool | int | float | str]) -> None:
        for name, source in assignments.items():
            declared = self.types.get(name)
            if declared is None:
                self.parsed.error(
                    "undefined-variable",
                    (*path, name),
                    f"set assigns '{name}', which is not declared in variables",
                    key=True,
                )
                continue
            self._expression((*path, name), source, declared, f"set {name}")

    def _expression(
        self, path: Path, source: bool | int | float | str, wanted: TypeName, label: str
    ) -> None:
        try:
            found = parse(source).check(self.types)
        except UndefinedVariable as exc:
            self.parsed.error("undefined-variable", path, f"{label}: {exc.message}")
            return
        except ExpressionError as exc:
            self.parsed.error("bad-expression", path, f"{label}: {exc.message}")
            return
        if found != wanted:
            self.parsed.error(
                "bad-expression", path, f"{label}: {source!r} is a {found}, expected a {wanted}"
            )

    def _media(self, media_exists: MediaExists) -> None:
        for scene_id, scene in self.story.scenes.items():
            path: Path = ("scenes", scene_id)
            if scene.media is not None and not media_exists(scene.media):
                self.parsed.warning(
                    "missing-media", (*path, "media"), f"no media file for '{scene.media}'"
                )
            for i, variant in enumerate(scene.variants):
                if variant.media is not None and not media_exists(variant.media):
                    self.parsed.warning(
                        "missing-media",
                        (*path, "variants", i, "media"),
                        f"no media file for '{variant.media}'",
                    )
            if scene.generate is not None:
                for i, source in enumerate(scene.generate.sources):
                    if not media_exists(source):
                        self.parsed.warning(
                            "missing-media",
                            (*path, "generate", "sources", i),
                            f"no media file for montage source '{source}'",
                        )
        if self.story.style is not None:
            for i, reference in enumerate(self.story.style.references):
                if not media_exists(reference):
                    self.parsed.warning(
                        "missing-media",
                        ("style", "references", i),
                        f"no media file for style reference '{reference}'",
                    )

    # -- graph checks -------------------------------------------------------------

    def _near(self, name: str) -> str:
        """A typo hint: most unknown targets are a scene id misspelt (`dining-car`)."""
        close = difflib.get_close_matches(name, list(self.story.scenes), n=1, cutoff=0.6)
        return f" (did you mean '{close[0]}'?)" if close else ""

    def _graph(self) -> None:
        story = self.story
        graph: dict[str, list[str]] = {}
        broken: set[str] = set()  # scenes with an unknown target: already an error
        if story.start not in story.scenes:
            message = f"start names no scene: '{story.start}'{self._near(story.start)}"
            self.parsed.error("unknown-target", ("start",), message)
        for scene_id, scene in story.scenes.items():
            graph[scene_id] = []
            for path, target in self._edges(scene_id, scene):
                if target in story.scenes:
                    graph[scene_id].append(target)
                else:
                    broken.add(scene_id)
                    message = f"'{scene_id}' leads to no scene: '{target}'{self._near(target)}"
                    self.parsed.error("unknown-target", path, message)
        endings = [s for s, scene in story.scenes.items() if scene.ending]
        if not endings:
            self.parsed.error("no-ending", ("scenes",), "no scene has 'ending: true'", key=True)
        if story.start not in story.scenes:
            return
        seen = reachable(graph, story.start)
        bypassed = self._locked_bypass(graph, endings, set(seen)) if endings else set()
        for scene_id in story.scenes:
            if scene_id not in seen and scene_id not in bypassed:
                self.parsed.warning(
                    "unreachable",
                    ("scenes", scene_id),
                    f"scene '{scene_id}' cannot be reached from start '{story.start}'",
                    key=True,
                )
        if not endings:
            return
        self._shared_ending([s for s in seen if story.scenes[s].ending])
        # dead ends and broken scenes are errors already: as exits they keep traps quiet
        dead_ends = [s for s, sc in story.scenes.items() if not (sc.targets() or sc.ending)]
        self._traps(graph, set(seen), reaching(graph, [*endings, *dead_ends, *broken]))

    def _edges(self, scene_id: str, scene: Scene) -> list[tuple[Path, str]]:
        path: Path = ("scenes", scene_id)
        if scene.next is not None:
            return [((*path, "next"), scene.next)]
        if scene.choice is None:
            return []
        return [
            ((*path, "choice", "options", i, "goto"), option.goto)
            for i, option in enumerate(scene.choice.options)
        ]

    def _locked_bypass(
        self, graph: dict[str, list[str]], endings: list[str], seen: set[str]
    ) -> set[str]:
        """Report each locked scene some playthrough skips; return those (for `unreachable`)."""
        reported: set[str] = set()
        for scene_id, scene in self.story.scenes.items():
            if not scene.locked:
                continue
            path = shortest_path(graph, self.story.start, set(endings), avoid=scene_id)
            if path is None:
                continue
            note = "" if scene_id in seen else f"; '{scene_id}' cannot be reached at all"
            self.parsed.error(
                "locked-bypass",
                ("scenes", scene_id),
                f"{' → '.join(path)} avoids locked scene '{scene_id}'{note}",
                key=True,
            )
            reported.add(scene_id)
        return reported

    def _shared_ending(self, reached: list[str]) -> None:
        if not self.story.shared_ending or len(reached) < 2:
            return
        in_file_order = [s for s in self.story.scenes if s in reached]
        self.parsed.error(
            "ending-not-shared",
            ("shared_ending",),
            f"shared_ending is set but {len(reached)} endings are reachable: "
            + ", ".join(f"'{s}'" for s in in_file_order),
        )

    def _traps(self, graph: dict[str, list[str]], seen: set[str], can_leave: set[str]) -> None:
        for component in cycles(graph):
            if component[0] in seen and component[0] not in can_leave:
                names = ", ".join(f"'{s}'" for s in component)
                self.parsed.error(
                    "trap-cycle",
                    ("scenes", component[0]),
                    f"scenes {names} loop with no way to an ending",
                    key=True,
                )


__all__ = ["MediaExists", "check_story", "load_story", "validate_text"]
