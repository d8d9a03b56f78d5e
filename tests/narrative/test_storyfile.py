"""Reading story files: positions of syntax, duplicate-key and shape errors; JSON too."""

from __future__ import annotations

import json
import pathlib

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from narrative.storyfile import read_story

DEMO = pathlib.Path(__file__).parents[2] / "narrative" / "stories" / "demo.yaml"

STORY = """\
kinoroom: 1
title: Small
start: a
scenes:
  a:
    media: clips/a
    duration: 30
    next: b
  b:
    media: clips/b
    duration: 30
    ending: true
"""


def where(text: str, file: str = "s.yaml") -> list[tuple[str, int, int]]:
    return [(d.code, d.line, d.col) for d in read_story(text, file).diagnostics]


def test_a_good_file_reads_cleanly() -> None:
    parsed = read_story(STORY, "s.yaml")
    assert parsed.diagnostics == []
    assert parsed.story is not None
    assert parsed.story.scene("a").next == "b"
    assert parsed.file == "s.yaml"


def test_duplicate_keys_point_at_the_second_and_name_the_first() -> None:
    text = STORY + "  a:\n    media: clips/a2\n    duration: 10\n    ending: true\n"
    parsed = read_story(text, "s.yaml")
    [duplicate] = parsed.diagnostics
    assert (duplicate.code, duplicate.line, duplicate.col) == ("duplicate-key", 13, 3)
    assert "scenes.a" in duplicate.message
    assert "line 5" in duplicate.message
    assert parsed.story is None  # which 'a' the writer meant is not ours to guess


def test_duplicate_keys_deep_inside_a_scene() -> None:
    text = STORY.replace("    next: b\n", "    next: b\n    duration: 40\n")
    assert where(text) == [("duplicate-key", 9, 5)]


@pytest.mark.parametrize(
    ("text", "line", "col"),
    [
        ("kinoroom: 1\ntitle: [unclosed\nstart: a\n", 3, 6),
        ("kinoroom: 1\n\tstart: a\n", 2, 1),
        ("kinoroom: 1\ntitle: 'open\n", 3, 1),
        ("a: b: c\n", 1, 5),
        ("kinoroom: 1\n---\nkinoroom: 1\n", 2, 1),
        ('{"kinoroom": 1,\n "title": "x" "start": "a"}', 2, 15),  # JSON missing a comma
    ],
)
def test_syntax_error_is_one_schema_error_at_its_position(text: str, line: int, col: int) -> None:
    parsed = read_story(text, "s.yaml")
    [error] = parsed.diagnostics
    assert (error.code, error.severity, error.line, error.col) == ("schema", "error", line, col)
    assert error.message.startswith("YAML syntax error")
    assert parsed.story is None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # unknown field: at its key
        (("    next: b\n", "    nxt: b\n"), [("schema", 8, 5)]),
        # wrong type: at the value
        (("duration: 30\n    next", "duration: soon\n    next"), [("schema", 7, 15)]),
        # missing field: at the mapping that lacks it
        (("    media: clips/a\n", ""), [("schema", 6, 5)]),
        # bad id pattern in a mapping key: at the key
        (("  b:\n", "  b c:\n"), [("schema", 9, 3)]),
        # a number read as a key: at the key
        (("  b:\n", "  2:\n"), [("schema", 9, 3)]),
        # ending with next: at the scene
        (("    next: b\n", "    next: b\n    ending: true\n"), [("schema", 6, 5)]),
        # wrong version: at the value
        (("kinoroom: 1", "kinoroom: 2"), [("schema", 1, 11)]),
        # yes/no are strings (YAML 1.2), so an option id `no` is fine but `ending: yes` is not
        (("    ending: true\n", "    ending: yes\n"), [("schema", 12, 13)]),
    ],
)
def test_schema_errors_point_at_the_node(
    change: tuple[str, str], expected: list[tuple[str, int, int]]
) -> None:
    old, new = change
    assert old in STORY
    assert where(STORY.replace(old, new, 1)) == expected


def test_every_shape_error_is_reported_once() -> None:
    text = STORY.replace("duration: 30\n    next", "duration: []\n    next").replace(
        "    ending: true\n", "    ending: true\n    colour: red\n"
    )
    assert where(text) == [("schema", 7, 15), ("schema", 13, 5)]


@pytest.mark.parametrize("text", ["", "# only a comment\n", "- a list\n", "42\n"])
def test_not_a_mapping(text: str) -> None:
    assert where(text) == [("schema", 1, 1)]


def test_json_reads_into_the_same_model() -> None:
    from_yaml = read_story(DEMO.read_text(), "demo.yaml").story
    assert from_yaml is not None
    as_json = json.dumps(yaml.safe_load(DEMO.read_text()), indent=2)
    from_json = read_story(as_json, "demo.json")
    assert from_json.diagnostics == []
    assert from_json.story == from_yaml
    assert from_json.story.digest() == from_yaml.digest()


def test_json_errors_have_json_positions() -> None:
    data = yaml.safe_load(STORY)
    data["scenes"]["a"]["duration"] = "soon"
    text = json.dumps(data, indent=2)
    [(code, line, col)] = where(text, "s.json")
    assert code == "schema"
    assert text.splitlines()[line - 1][col - 1 :].startswith('"soon"')


@given(st.text(max_size=200))
def test_any_text_reads_without_raising(text: str) -> None:
    parsed = read_story(text, "fuzz.yaml")
    assert parsed.story is not None or parsed.diagnostics
    for diagnostic in parsed.diagnostics:
        assert diagnostic.line >= 1
        assert diagnostic.col >= 1


@pytest.mark.parametrize(
    ("text", "line", "col"),
    [
        ("kinoroom: 1\ntitle: !!int many\n", 2, 8),  # a tag that does not fit its value
        ("kinoroom: 1\ntitle: !custom x\n", 2, 8),  # a tag nobody constructs
        ("kinoroom: 1\nscenes: &s {a: *s}\n", 1, 1),  # an alias inside itself
        ("[" * 3000, 1, 1),  # nesting past the recursion limit
    ],
)
def test_hostile_yaml_is_a_schema_error_not_a_crash(text: str, line: int, col: int) -> None:
    assert where(text) == [("schema", line, col)]


def test_an_equals_sign_is_a_plain_string() -> None:
    # YAML 1.1 resolves a bare `=` to a tag with no constructor; a label may be "=".
    text = STORY.replace("title: Small", "title: =")
    parsed = read_story(text, "s.yaml")
    assert parsed.story is not None
    assert parsed.story.title == "="
