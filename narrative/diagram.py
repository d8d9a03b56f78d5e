"""Draw a story as a Mermaid flowchart or a Graphviz DOT graph (`kinoroom story graph`).

Writers paste Mermaid into a README or an issue; DOT feeds ``dot -Tsvg``. Locked scenes
are drawn bold, endings as stadiums (Mermaid) or double circles (DOT), and option edges
carry the label, the condition that can hide them, and which is the director's cut.
Mermaid nodes are numbered (``s0``, ``s1``…) because scene ids such as ``end`` or
``start`` are Mermaid keywords.

An ink story has no graph of its own: its validator's exploration draws one
(`narrative.ink_explore`), of the choice points it reached, and both kinds are drawn
from the same `Graph`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from narrative.story import Story


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    label: str  # empty for `next`
    default: bool


@dataclass(frozen=True, slots=True)
class Node:
    caption: str
    ending: bool = False
    locked: bool = False


@dataclass(slots=True)
class Graph:
    title: str
    start: str
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)


def story_graph(story: Story) -> Graph:
    """A story file's graph: scenes, and their `next` and option edges."""
    graph = Graph(story.title, story.start)
    for scene_id, scene in story.scenes.items():
        caption = f"{scene_id} ({scene.duration:g} s)"
        graph.nodes[scene_id] = Node(caption, scene.ending, scene.locked)
        if scene.next is not None:
            graph.edges.append(Edge(scene_id, scene.next, "", False))
        if scene.choice is not None:
            for option in scene.choice.options:
                label = option.label + (f" [if {option.if_}]" if option.if_ is not None else "")
                default = option.id == scene.choice.default
                graph.edges.append(Edge(scene_id, option.goto, label, default))
    return graph


def to_mermaid(story: Story | Graph) -> str:
    graph = story if isinstance(story, Graph) else story_graph(story)
    node = {scene_id: f"s{i}" for i, scene_id in enumerate(graph.nodes)}

    def text(value: str) -> str:
        return value.replace('"', "#quot;")

    lines = ["flowchart TD", f"  %% {graph.title}", "  start_(( ))"]
    for scene_id, info in graph.nodes.items():
        caption = text(info.caption)
        shape = f'(["{caption}"])' if info.ending else f'["{caption}"]'
        lines.append(f"  {node[scene_id]}{shape}")
    if graph.start in node:
        lines.append(f"  start_ --> {node[graph.start]}")
    for edge in graph.edges:
        if edge.target not in node:
            continue  # an unknown target; the validator reports it
        label = text(edge.label + (" (default)" if edge.default else ""))
        arrow = f' -- "{label}" --> ' if label else " --> "
        lines.append(f"  {node[edge.source]}{arrow}{node[edge.target]}")
    locked = [node[scene_id] for scene_id, info in graph.nodes.items() if info.locked]
    if locked:
        lines.append("  classDef locked stroke-width:4px")
        lines.append(f"  class {','.join(locked)} locked")
    return "\n".join(lines) + "\n"


def to_dot(story: Story | Graph) -> str:
    graph = story if isinstance(story, Graph) else story_graph(story)

    def quote(value: str) -> str:
        return json.dumps(value)

    lines = [
        f"digraph {quote(graph.title)} {{",
        "  rankdir=TB;",
        '  node [shape=box, fontname="sans-serif"];',
        f"  __start [shape=point]; __start -> {quote(graph.start)};",
    ]
    for scene_id, info in graph.nodes.items():
        attrs = [f"label={quote(info.caption)}"]
        if info.ending:
            attrs.append("shape=doublecircle")
        if info.locked:
            attrs.append("penwidth=3")
        lines.append(f"  {quote(scene_id)} [{', '.join(attrs)}];")
    for edge in graph.edges:
        attrs = [f"label={quote(edge.label)}"] if edge.label else []
        if edge.default:
            attrs.append("style=bold")
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {quote(edge.source)} -> {quote(edge.target)}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


__all__ = ["Edge", "Graph", "Node", "story_graph", "to_dot", "to_mermaid"]
