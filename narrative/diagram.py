"""Draw a story as a Mermaid flowchart or a Graphviz DOT graph (`kinoroom story graph`).

Writers paste Mermaid into a README or an issue; DOT feeds `dot -Tsvg`. Locked scenes
are drawn bold, endings as stadiums/double circles, option edges carry the label and
the condition that can hide them.
"""

from __future__ import annotations

import json

from narrative.story import Story


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def to_mermaid(story: Story) -> str:
    lines = ["flowchart TD", f"  %% {story.title}"]
    for scene_id, scene in story.scenes.items():
        label = _mermaid_text(f"{scene_id} ({scene.duration:g} s)")
        if scene.ending:
            lines.append(f'  {scene_id}(["{label}"])')
        else:
            lines.append(f'  {scene_id}["{label}"]')
    for scene_id, scene in story.scenes.items():
        if scene.next is not None:
            lines.append(f"  {scene_id} --> {scene.next}")
        if scene.choice is not None:
            for option in scene.choice.options:
                text = option.label + (f" [if {option.if_}]" if option.if_ is not None else "")
                if option.id == scene.choice.default:
                    text += " (default)"
                lines.append(f'  {scene_id} -- "{_mermaid_text(text)}" --> {option.goto}')
    locked = [scene_id for scene_id, scene in story.scenes.items() if scene.locked]
    if locked:
        lines.append("  classDef locked stroke-width:4px")
        lines.append(f"  class {','.join(locked)} locked")
    lines.append(f"  start(( )) --> {story.start}")
    return "\n".join(lines) + "\n"


def to_dot(story: Story) -> str:
    def quote(text: str) -> str:
        return json.dumps(text)

    lines = [
        f"digraph {quote(story.title)} {{",
        "  rankdir=TB;",
        '  node [shape=box, fontname="sans-serif"];',
    ]
    lines.append(f"  __start [shape=point]; __start -> {quote(story.start)};")
    for scene_id, scene in story.scenes.items():
        attrs = [f"label={quote(f'{scene_id} ({scene.duration:g} s)')}"]
        if scene.ending:
            attrs.append("shape=doublecircle")
        if scene.locked:
            attrs.append("penwidth=3")
        lines.append(f"  {quote(scene_id)} [{', '.join(attrs)}];")
    for scene_id, scene in story.scenes.items():
        if scene.next is not None:
            lines.append(f"  {quote(scene_id)} -> {quote(scene.next)};")
        if scene.choice is not None:
            for option in scene.choice.options:
                text = option.label + (f" [if {option.if_}]" if option.if_ is not None else "")
                style = ", style=bold" if option.id == scene.choice.default else ""
                lines.append(
                    f"  {quote(scene_id)} -> {quote(option.goto)} [label={quote(text)}{style}];"
                )
    lines.append("}")
    return "\n".join(lines) + "\n"


__all__ = ["to_dot", "to_mermaid"]
