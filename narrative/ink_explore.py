"""Validating an ink story: a bounded exploration with the runtime itself.

An ink story's problems show only when it runs (a condition opens a sixth choice, a
knot runs out of content, a division by zero), so the validator plays it: from the
start, every choice at every choice point, breadth first, each choice point reached by a
different history counted once, until every path has ended or `limit` choice points have
been explored. Breadth first, so a loop (which never ends on its own: its visit counts
keep growing) still leaves room for every other branch up to the same depth.

Each turn is built into scenes exactly as a screening builds it (`narrative.ink_scenes`),
and every problem is reported once, at its ink path:

- errors: ``options-count`` (more than 5 choices at a choice point), ``dead-end`` (the
  story runs out of content without ``-> END``), ``ink-runtime`` (the runtime failed),
  ``bad-tag`` (a Kinoroom tag with a bad value);
- warnings: ``missing-media`` (a ``# clip:`` naming no media, with a media folder),
  ``clip-duration`` (a clip without ``# duration:``: it plays 10 s), ``ink-warning``
  (the runtime's own warnings);
- ``coverage`` (severity ``info``): how much of the story the exploration reached —
  choice points explored against the limit, whether every path was followed to its
  end, endings reached, and the knots never reached. (Compilers count visits only of
  the knots a story reads; the exploration's copy of the story counts every knot's, so
  it can tell which ones a path went through. That changes no ink behaviour.)
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from narrative.diagnostics import Diagnostic, Severity
from narrative.diagram import Edge, Graph, Node
from narrative.ink_runtime import InkRuntime, Turn
from narrative.ink_scenes import OPTIONS_MAX, build_turn
from narrative.ink_story import InkStory
from narrative.ink_tags import read_tags

DEFAULT_LIMIT = 2000  # choice points; the bundled story ends every path in ~1,100

MediaExists = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class _Visit:
    state: str  # the runtime's state at the turn's start
    parent: str | None  # the choice point whose choice led here
    label: str
    default: bool


@dataclass(frozen=True, slots=True)
class Coverage:
    choice_points: int  # explored
    limit: int
    complete: bool  # every path ended within the limit
    endings: int  # distinct ending paths reached
    knots: tuple[str, ...]  # every knot of the story
    reached: tuple[str, ...]  # the knots some explored path ran through

    def describe(self) -> str:
        how = (
            "every path to its end"
            if self.complete
            else f"stopped at the limit of {self.limit} choice points"
        )
        missed = [k for k in self.knots if k not in self.reached]
        text = (
            f"explored {self.choice_points} choice point(s), {how}; reached "
            f"{len(self.reached)} of {len(self.knots)} knots and {self.endings} ending(s)"
        )
        return text + (f"; not reached: {', '.join(missed)}" if missed else "")


def explore(
    story: InkStory,
    file: str,
    *,
    limit: int = DEFAULT_LIMIT,
    media_exists: MediaExists | None = None,
    seed: int = 0,
    graph: Graph | None = None,
) -> tuple[list[Diagnostic], Coverage]:
    """Play ``story`` down every choice path (module docstring); never raises on bad ink.

    Args:
        limit: the most choice points to explore (at least 1).
        media_exists: tells whether a clip has media; without it clips are not checked.
        seed: ink's random seed for the whole exploration (each path is one screening).
        graph: filled with the choice points reached (nodes: each choice point's ink
            path, and the endings) and where each choice leads (`kinoroom story graph`).
    """
    found: dict[tuple[str, str, str], Diagnostic] = {}

    def report(severity: Severity, code: str, path: str, message: str) -> None:
        key = (code, path, message)
        if key not in found:
            found[key] = Diagnostic(file, 1, 1, severity, code, message, path or "(start)")

    runtime = InkRuntime(_counting_knots(story.compiled))
    runtime.seed(seed)
    first = runtime.state()
    queue: deque[_Visit] = deque([_Visit(first, None, "", False)])
    seen: set[str] = {first}
    explored = 0
    endings: set[str] = set()
    reached: set[str] = set()
    clips: set[str] = set()  # clips checked already
    while queue and explored < max(1, limit):
        visit = queue.popleft()
        runtime.load(visit.state)
        turn = runtime.run(first=visit.state == first)
        reached.update(_knot(p) for p in runtime.visited())
        _check_turn(turn, story, report, media_exists, clips)
        node = _node(turn)
        if graph is not None:
            _draw(graph, node, turn, visit)
        if turn.outcome != "choices":
            if turn.outcome == "end":
                endings.add(node)
            continue
        explored += 1
        end = runtime.state() if turn.reloadable else None
        defaults = [i for i, c in enumerate(turn.choices) if read_tags(c.tags).default] or [0]
        for index, choice in enumerate(turn.choices):
            if end is not None:
                runtime.load(end)
            else:  # run the turn again to its choice point (`narrative.ink_runtime`)
                runtime.load(visit.state)
                runtime.run(first=visit.state == first)
            runtime.choose(index)
            state = runtime.state()
            if state not in seen:
                seen.add(state)
                queue.append(_Visit(state, node, choice.text, index == defaults[0]))
    knots = _knots(story.compiled)
    coverage = Coverage(
        explored, limit, not queue, len(endings), knots,
        tuple(k for k in knots if k in reached),
    )  # fmt: skip
    report("info", "coverage", "", coverage.describe())
    return list(found.values()), coverage


def _check_turn(
    turn: Turn,
    story: InkStory,
    report: Callable[[Severity, str, str, str], None],
    media_exists: MediaExists | None,
    clips: set[str],
) -> None:
    for message in turn.errors:
        report("error", "ink-runtime", turn.path, message)
    for message in turn.warnings:
        report("warning", "ink-warning", turn.path, message)
    if turn.outcome == "dead-end":
        after = f" after {_quote(turn.lines[-1].text)}" if turn.lines else ""
        report(
            "error", "dead-end", turn.path,
            f"the story runs out of content{after}: end it with -> END, or go on with a "
            "divert or a choice",
        )  # fmt: skip
    if len(turn.choices) > OPTIONS_MAX:
        source = turn.choices[0].source
        report(
            "error", "options-count", source,
            f"{len(turn.choices)} choices at once ({', '.join(c.text for c in turn.choices)}); "
            f"a vote offers at most {OPTIONS_MAX}",
        )  # fmt: skip
    for choice in turn.choices:
        for problem in read_tags(choice.tags).problems:
            report("error", "bad-tag", choice.source, problem)
    for line in turn.lines:
        tags = read_tags(line.tags)
        for problem in tags.problems:
            report("error", "bad-tag", turn.path, problem)
        if tags.clip is None or tags.clip in clips:
            continue
        clips.add(tags.clip)
        if media_exists is not None and not media_exists(tags.clip):
            report("warning", "missing-media", turn.path, f"no media file for clip '{tags.clip}'")
        if tags.duration is None:
            report(
                "warning", "clip-duration", turn.path,
                f"clip '{tags.clip}' has no # duration: it plays 10 s",
            )  # fmt: skip
    build_turn("0", turn, story.settings)  # what a screening would build must build


def _node(turn: Turn) -> str:
    """A choice point is known by the container its choices are written in (``square.0``
    for ``square.0.18``), whichever of them show; an end by its kind."""
    if turn.outcome == "choices":
        return turn.choices[0].source.rsplit(".", 1)[0] or turn.choices[0].source
    return {"end": "END", "dead-end": "dead end"}.get(turn.outcome, "runtime error")


def _draw(graph: Graph, node: str, turn: Turn, visit: _Visit) -> None:
    if node not in graph.nodes:
        if turn.outcome == "choices":
            words = [" ".join(line.text.split()) for line in turn.lines if line.text.strip()]
            prompt = words[-1] if words else ""
            caption = f"{node}: {prompt[:57] + '…' if len(prompt) > 58 else prompt}"
        else:
            caption = node
        graph.nodes[node] = Node(caption.rstrip(": "), ending=turn.outcome != "choices")
    if visit.parent is None:
        graph.start = node
        return
    known = {(e.source, e.target, e.label) for e in graph.edges}
    if (visit.parent, node, visit.label) not in known:
        graph.edges.append(Edge(visit.parent, node, visit.label, visit.default))


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= 60 else text[:59] + "…")


def _knot(path: str) -> str:
    head = path.split(".", 1)[0]
    return "" if not head or head[0].isdigit() else head


def _counting_knots(compiled: str) -> str:
    """The story with every knot's visits counted (flag 1 of a container's ``#f``)."""
    data = json.loads(compiled)
    root = data.get("root", [])
    named = root[-1] if root and isinstance(root[-1], dict) else {}
    for name, container in named.items():
        if name in ("global decl", "#f", "#n") or not isinstance(container, list):
            continue
        if not container or not isinstance(container[-1], dict | None):
            container.append(None)
        meta = container[-1] if isinstance(container[-1], dict) else {}
        meta["#f"] = int(meta.get("#f", 0)) | 1
        container[-1] = meta
    return json.dumps(data, separators=(",", ":"))


def _knots(compiled: str) -> tuple[str, ...]:
    """The story's knots: the named containers at the top of its root."""
    root = json.loads(compiled).get("root", [])
    named = root[-1] if root and isinstance(root[-1], dict) else {}
    return tuple(k for k in named if k not in ("global decl", "#f", "#n"))


__all__ = ["DEFAULT_LIMIT", "Coverage", "explore"]
