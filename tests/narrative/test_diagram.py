"""Story graphs as Mermaid and DOT."""

from __future__ import annotations

from narrative.diagram import to_dot, to_mermaid
from narrative.story import Story

STORY = Story.model_validate(
    {
        "kinoroom": 1,
        "title": 'The "End"',
        "start": "start",
        "scenes": {
            "start": {
                "media": "a",
                "duration": 20,
                "choice": {
                    "at": 1,
                    "window": 5,
                    "prompt": "?",
                    "default": "stay",
                    "options": [
                        {"id": "stay", "label": "Stay", "goto": "end"},
                        {"id": "go", "label": 'Say "go"', "goto": "core", "if": "true"},
                    ],
                },
            },
            "core": {"media": "c", "duration": 10, "locked": True, "next": "end"},
            "end": {"media": "e", "duration": 5, "ending": True},
        },
    }
)


def test_mermaid_numbers_nodes_so_keyword_ids_are_safe():
    text = to_mermaid(STORY)
    assert text.startswith("flowchart TD\n")
    assert '  s0["start (20 s)"]' in text
    assert '  s2(["end (5 s)"])' in text  # an ending is a stadium
    assert "  start_ --> s0" in text
    assert '  s0 -- "Stay (default)" --> s2' in text
    assert '  s0 -- "Say #quot;go#quot; [if true]" --> s1' in text
    assert "  s1 --> s2" in text
    assert "  class s1 locked" in text


def test_dot_marks_endings_locked_scenes_and_the_default():
    text = to_dot(STORY)
    assert text.startswith('digraph "The \\"End\\"" {')
    assert '"end" [label="end (5 s)", shape=doublecircle];' in text
    assert '"core" [label="core (10 s)", penwidth=3];' in text
    assert '"start" -> "end" [label="Stay", style=bold];' in text
    assert '"core" -> "end";' in text
    assert text.rstrip().endswith("}")
