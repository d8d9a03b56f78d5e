"""The story validator: every broken story gets its code at its line, the demo none."""

from __future__ import annotations

import json
import pathlib
import re

import pytest

from narrative.diagnostics import Diagnostic
from narrative.errors import StoryError
from narrative.policies import POLICY_NAMES
from narrative.storyfile import read_story
from narrative.validate import check_story, load_story, validate_text
from server.medialib import media_finder

HERE = pathlib.Path(__file__).parent
CORPUS = sorted((HERE / "broken").glob("*.yaml"))
DEMO = HERE.parent.parent / "narrative" / "stories" / "demo.yaml"
EXPECT = re.compile(r"^# expect: (\S+) (\d+):(\d+)", re.MULTILINE)

ERROR_CODES = {
    "schema",
    "duplicate-key",
    "unknown-target",
    "dead-end",
    "options-count",
    "bad-default",
    "bad-window",
    "bad-expression",
    "undefined-variable",
    "locked-bypass",
    "ending-not-shared",
    "trap-cycle",
    "no-ending",
}
WARNING_CODES = {"unreachable", "missing-media"}

STORY = """\
kinoroom: 1
title: Small
start: a
variables: {seen: false}
scenes:
  a:
    media: clips/a
    duration: 30
    choice:
      at: 5
      window: 10
      prompt: Which?
      default: x
      options:
        - {id: x, label: X, goto: b}
        - {id: y, label: Y, goto: b, if: seen}
  b:
    media: clips/b
    duration: 30
    locked: true
    variants:
      - {when: mood.arousal < 0, media: clips/b-fast}
    next: c
  c:
    media: clips/c
    duration: 30
    ending: true
"""


def expectations(path: pathlib.Path) -> set[tuple[str, int, int]]:
    return {(code, int(line), int(col)) for code, line, col in EXPECT.findall(path.read_text())}


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_broken_story_gets_exactly_its_codes(path: pathlib.Path) -> None:
    expected = expectations(path)
    assert expected, f"{path.name} has no '# expect: CODE LINE:COL' line"
    found = validate_text(path.read_text(), path.name)
    assert {(d.code, d.line, d.col) for d in found} == expected, [d.format() for d in found]


def test_corpus_covers_every_code() -> None:
    covered = {code for path in CORPUS for code, _, _ in expectations(path)}
    assert covered == (ERROR_CODES | WARNING_CODES) - {"missing-media"}  # needs a media dir


def test_severities_follow_the_code() -> None:
    for path in CORPUS:
        for d in validate_text(path.read_text(), path.name):
            assert d.severity == ("warning" if d.code in WARNING_CODES else "error"), d.format()


def test_base_story_is_clean() -> None:
    assert validate_text(STORY, "s.yaml") == []


def test_demo_story_is_clean() -> None:
    assert validate_text(DEMO.read_text(), str(DEMO)) == []


def test_demo_story_has_what_the_issue_asks_for() -> None:
    story = load_story(DEMO.read_text(), str(DEMO))
    scenes = story.scenes.values()
    assert 8 <= len(story.scenes) <= 14
    assert story.shared_ending
    assert sum(scene.ending for scene in scenes) == 1
    assert any(scene.locked for scene in scenes)
    counts = {len(scene.choice.options) for scene in scenes if scene.choice}
    assert {3, 4} <= counts
    options = [o for scene in scenes if scene.choice for o in scene.choice.options]
    assert any(o.if_ is not None for o in options)
    assert any(o.set for o in options)
    assert any(o.mood for o in options)
    assert any(scene.variants for scene in scenes)
    assert all(20 <= scene.duration <= 60 for scene in scenes)
    assert story.style is not None and any(scene.generate for scene in scenes)


def test_load_story_raises_with_every_error() -> None:
    broken = STORY.replace("goto: b, if", "goto: nowhere, if").replace("default: x", "default: z")
    with pytest.raises(StoryError) as caught:
        load_story(broken, "small.yaml")
    assert {d.code for d in caught.value.diagnostics} == {"bad-default", "unknown-target"}
    assert caught.value.file == "small.yaml"
    assert "small.yaml:13:16: error bad-default" in str(caught.value)


def test_load_story_allows_warnings() -> None:
    text = STORY + "  orphan:\n    media: clips/o\n    duration: 30\n    next: c\n"
    assert [d.code for d in validate_text(text, "s.yaml")] == ["unreachable"]
    assert "orphan" in load_story(text).scenes


def test_load_story_rejects_yaml_syntax_errors() -> None:
    with pytest.raises(StoryError) as caught:
        load_story("scenes: [", "x.yaml")
    assert caught.value.code == "schema"


def test_diagnostic_json_round_trips() -> None:
    found = validate_text(STORY.replace("next: c", "next: d"), "s.yaml")
    assert found
    for diagnostic in found:
        data = json.loads(json.dumps(diagnostic.to_json()))
        assert set(data) == {"file", "line", "col", "severity", "code", "message"}
        assert Diagnostic(**data) == diagnostic


def test_check_story_sorts_and_does_not_touch_its_input() -> None:
    text = STORY.replace("default: x", "default: z").replace("next: c", "next: d")
    parsed = read_story(text, "s.yaml")
    before = list(parsed.diagnostics)
    first = check_story(parsed)
    assert check_story(parsed) == first  # no duplicates from a second run
    assert parsed.diagnostics == before
    assert [(d.line, d.col) for d in first] == sorted((d.line, d.col) for d in first)


def test_json_story_is_checked_the_same_way() -> None:
    import yaml

    data = yaml.safe_load(STORY)
    data["scenes"]["a"]["choice"]["options"][1]["goto"] = "d"
    text = json.dumps(data, indent=2)
    [diagnostic] = validate_text(text, "s.json")
    assert diagnostic.code == "unknown-target"
    line = text.splitlines()[diagnostic.line - 1]
    assert line[diagnostic.col - 1 :].startswith('"d"')


def test_locked_bypass_names_the_shortest_path_in_option_order() -> None:
    text = STORY.replace("goto: b}", "goto: c}")  # both options now skip b
    [bypass] = [d for d in validate_text(text, "s.yaml") if d.code == "locked-bypass"]
    assert bypass.message == "a → c avoids locked scene 'b'"


def test_conditions_do_not_hide_a_bypass() -> None:
    # 'y' is hidden until `seen` is true, which nothing sets: the graph checks still
    # count it, as the module docstring says.
    text = STORY.replace("goto: b, if: seen", "goto: c, if: seen")
    [bypass] = validate_text(text, "s.yaml")
    assert bypass.code == "locked-bypass"
    assert (bypass.line, bypass.col) == (17, 3)


def test_a_locked_start_cannot_be_bypassed() -> None:
    text = STORY.replace("    choice:\n", "    locked: true\n    choice:\n", 1)
    text = text.replace("    locked: true\n    variants", "    variants")
    assert validate_text(text, "s.yaml") == []


def test_ending_not_shared_names_the_endings() -> None:
    text = STORY.replace("title: Small", "title: Small\nshared_ending: true")
    text = text.replace("    next: c\n", "    ending: true\n").replace("goto: b, if", "goto: c, if")
    [problem] = [d for d in validate_text(text, "s.yaml") if d.code == "ending-not-shared"]
    assert "'b', 'c'" in problem.message


def test_variable_types_come_from_initial_values() -> None:
    text = STORY.replace("if: seen}", "if: seen, set: {seen: \"'yes'\"}}")
    [problem] = validate_text(text, "s.yaml")
    assert problem.code == "bad-expression"
    assert "is a string, expected a bool" in problem.message


def test_every_policy_name_is_accepted() -> None:
    for name in POLICY_NAMES:
        text = STORY.replace("default: x", f"default: x\n      policy: {name}")
        assert validate_text(text, "s.yaml") == []


def test_missing_media_with_a_media_dir(tmp_path: pathlib.Path) -> None:
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "a").write_bytes(b"")  # exact name
    (tmp_path / "clips" / "c.ts").write_bytes(b"")  # clip id without its extension
    text = STORY
    found = validate_text(text, "s.yaml", media_finder(tmp_path))
    assert [(d.code, d.severity, d.line, d.col) for d in found] == [
        ("missing-media", "warning", 18, 12),
        ("missing-media", "warning", 22, 41),
    ]
    assert "'clips/b-fast'" in found[1].message
    assert validate_text(text, "s.yaml") == []  # without a media dir, nothing is checked


def test_media_check_is_injectable() -> None:
    parsed = read_story(STORY, "s.yaml")
    asked: list[str] = []

    def exists(name: str) -> bool:
        asked.append(name)
        return True

    assert check_story(parsed, exists) == []
    assert asked == ["clips/a", "clips/b", "clips/b-fast", "clips/c"]


def test_semantic_checks_wait_for_a_well_shaped_story() -> None:
    # A bad default in a story that also has a shape error is not reported: the model
    # is not built, so meaning cannot be checked yet.
    text = STORY.replace("default: x", "default: z").replace("duration: 30\n", "duration: []\n", 1)
    assert [d.code for d in validate_text(text, "s.yaml")] == ["schema"]


def test_unknown_target_suggests_the_scene_a_typo_meant() -> None:
    path = HERE / "broken" / "unknown-target-in-loop.yaml"
    (problem,) = validate_text(path.read_text(), path.name)
    assert problem.message.endswith("(did you mean 'end'?)")
