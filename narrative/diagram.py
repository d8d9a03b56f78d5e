"""Draw a story as a Mermaid flowchart or a Graphviz DOT graph (`kinoroom story graph`).

Writers paste Mermaid into a README or an issue; DOT feeds ``dot -Tsvg``. Locked scenes
are drawn bold, endings as stadiums (Mermaid) or double circles (DOT), and option edges
carry the label, the condition that can hide them, and which is the director's cut.
Mermaid nodes are numbered (``s0``, ``s1``…) because scene ids such as ``end`` or
``start`` are Mermaid keywords.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from narrative.story import Scene, Story


@dataclass(frozen=True, slots=True)
class _Edge:
    source: str
    target: str
    label: str  # empty for `next`
    default: bool


def _edges(story: Story) -> Iterator[_Edge]:
    for scene_id, scene in story.scenes.items():
        if scene.next is not None:
            yield _Edge(scene_id, scene.next, "", False)
        if scene.choice is not None:
            for option in scene.choice.options:
                label = option.label + (f" [if {option.if_}]" if option.if_ is not None else "")
                yield _Edge(scene_id, option.goto, label, option.id == scene.choice.default)


def _caption(scene_id: str, scene: Scene) -> str:
    return f"{scene_id} ({scene.duration:g} s)"


def to_mermaid(story: Story) -> str:
    node = {scene_id: f"s{i}" for i, scene_id in enumerate(story.scenes)}

    def text(value: str) -> str:
        return value.replace('"', "#quot;")

    lines = ["flowchart TD", f"  %% {story.title}", "  start_(( ))"]
    for scene_id, scene in story.scenes.items():
        caption = text(_caption(scene_id, scene))
        shape = f'(["{caption}"])' if scene.ending else f'["{caption}"]'
        lines.append(f"  {node[scene_id]}{shape}")
    if story.start in node:
        lines.append(f"  start_ --> {node[story.start]}")
    for edge in _edges(story):
        if edge.target not in node:
            continue  # an unknown target; the validator reports it
        label = text(edge.label + (" (default)" if edge.default else ""))
        arrow = f' -- "{label}" --> ' if label else " --> "
        lines.append(f"  {node[edge.source]}{arrow}{node[edge.target]}")
    locked = [node[scene_id] for scene_id, scene in story.scenes.items() if scene.locked]
    if locked:
        lines.append("  classDef locked stroke-width:4px")
        lines.append(f"  class {','.join(locked)} locked")
    return "\n".join(lines) + "\n"


def to_dot(story: Story) -> str:
    def quote(value: str) -> str:
        return json.dumps(value)

    lines = [
        f"digraph {quote(story.title)} {{",
        "  rankdir=TB;",
        '  node [shape=box, fontname="sans-serif"];',
        f"  __start [shape=point]; __start -> {quote(story.start)};",
    ]
    for scene_id, scene in story.scenes.items():
        attrs = [f"label={quote(_caption(scene_id, scene))}"]
        if scene.ending:
            attrs.append("shape=doublecircle")
        if scene.locked:
            attrs.append("penwidth=3")
        lines.append(f"  {quote(scene_id)} [{', '.join(attrs)}];")
    for edge in _edges(story):
        attrs = [f"label={quote(edge.label)}"] if edge.label else []
        if edge.default:
            attrs.append("style=bold")
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {quote(edge.source)} -> {quote(edge.target)}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


__all__ = ["to_dot", "to_mermaid"]
