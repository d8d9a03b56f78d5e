"""Validating an ink story by exploring it with the runtime, and reading ink files."""

from __future__ import annotations

import json

import pytest

from narrative.diagram import Graph, to_mermaid
from narrative.errors import StoryError
from narrative.ink_explore import explore
from narrative.ink_runtime import MAX_LINES, InkRuntime
from narrative.ink_story import BOM, looks_like_ink, paced, read_ink
from tests.narrative.ink_stories import ink, text_of


def found(name: str, **kwargs) -> list[tuple[str, str, str | None]]:
    diagnostics, _ = explore(ink(name), f"{name}.ink.json", **kwargs)
    return [(d.severity, d.code, d.path) for d in diagnostics]


def test_a_sound_story_has_only_its_coverage():
    diagnostics, coverage = explore(ink("features"), "features.ink.json")
    [info] = diagnostics
    assert (info.severity, info.code) == ("info", "coverage")
    assert coverage.complete and coverage.endings == 1
    assert coverage.reached == coverage.knots == ("hall", "cellar", "visit_clerk", "out")
    assert "every path to its end; reached 4 of 4 knots and 1 ending(s)" in info.message


def test_more_than_five_choices_is_options_count_at_the_choice_point():
    [problem, _] = found("six_choices")
    assert problem[:2] == ("error", "options-count")
    assert problem[2].startswith("0.")  # an ink path, in the root weave


def test_running_out_of_content_is_a_dead_end_with_its_path():
    diagnostics, _ = explore(ink("dead_end"), "dead_end.ink.json")
    [dead_end] = [d for d in diagnostics if d.code == "dead-end"]
    assert dead_end.severity == "error"
    assert "The left corridor ends in a wall." in dead_end.message
    assert dead_end.format().startswith("dead_end.ink.json:0.c-0")


def test_a_runtime_failure_is_reported_with_the_ink_path():
    diagnostics, _ = explore(ink("crash"), "crash.ink.json")
    [crash] = [d for d in diagnostics if d.code == "ink-runtime"]
    assert crash.path.startswith("divide.")
    assert "divide." in crash.message


def test_clips_are_checked_against_the_media_and_their_durations():
    found_media = {"harbour/dawn"}
    result = found("tags", media_exists=found_media.__contains__)
    assert ("warning", "missing-media", "0.c-0.0") in result  # ferry/deck: no file
    assert sum(code == "missing-media" for _, code, _ in result) == 1
    assert sum(code == "clip-duration" for _, code, _ in result) == 1  # ferry/deck has none


def test_exploration_stops_at_its_limit_and_says_so():
    diagnostics, coverage = explore(ink("chance"), "chance.ink.json", limit=7)
    assert coverage.choice_points == 7 and not coverage.complete
    assert "stopped at the limit of 7 choice points" in diagnostics[-1].message


def test_the_bundled_story_explores_completely_and_cleanly():
    diagnostics, coverage = explore(ink("lamplighter"), "lamplighter.ink.json")
    assert [d.code for d in diagnostics] == ["coverage"]
    assert coverage.complete, coverage.describe()
    assert set(coverage.reached) == set(coverage.knots)


def test_the_exploration_draws_the_choice_points():
    graph = Graph("", "")
    explore(ink("features"), "features.ink.json", graph=graph)
    text = to_mermaid(graph)
    assert "hall.0: The hall, round 1. You hold 0 coins." in text
    assert '-- "Unlock the cellar' in text
    assert '(["END"])' in text


def test_reading_an_ink_file():
    text = text_of("features")
    assert text.startswith(BOM) and looks_like_ink(text) and looks_like_ink(text[1:])
    assert read_ink(text).digest() == read_ink(text[1:]).digest()  # the BOM is not the story
    assert not looks_like_ink('{"kinoroom": 1}')
    for bad, code in (("{not json", "ink-json"), ('{"inkVersion": 21}', "ink-json")):
        with pytest.raises(StoryError) as error:
            read_ink(bad, "bad.ink.json")
        assert error.value.code == code


def test_a_global_tag_with_a_bad_value_is_an_error():
    data = json.loads(text_of("tags").lstrip(BOM))
    data["root"][0][0:0] = ["#", "^wpm: fast", "/#", "#", "^colour:", "/#", "#", "^f3e3b5", "/#"]
    with pytest.raises(StoryError) as error:
        read_ink(json.dumps(data), "tags.ink.json")
    messages = [d.message for d in error.value.diagnostics]
    assert error.value.code == "bad-tag"
    assert any("'fast' is not a number" in m for m in messages)
    assert any("without the #" in m for m in messages)  # `# colour: #f3e3b5` split in two


def test_a_quick_cut_paces_every_length():
    quick = read_ink(paced(text_of("tags"), 0.1))
    plot = quick.plot()
    assert quick.settings.pace == pytest.approx(0.05)  # the story's own 0.5, times 0.1
    assert plot.scene("t0-0").duration == pytest.approx(1.0)  # # duration: 20
    assert quick.digest() != ink("tags").digest()


def test_loops_that_never_reach_a_choice_end_the_turn_instead_of_hanging():
    runtime = InkRuntime(ink("endless").compiled, line_budget_ms=100)
    start = runtime.state()
    runtime.run()
    runtime.choose(0)  # spin: -> spin, printing nothing
    spin = runtime.run()
    assert spin.outcome == "error" and "no line within 0.1 s" in spin.errors[0]
    runtime.load(start)
    runtime.run()
    runtime.choose(1)  # talk: "Bla." for ever
    talk = runtime.run()
    assert talk.outcome == "error" and f"more than {MAX_LINES} lines" in talk.errors[0]
    assert len(talk.lines) == MAX_LINES
