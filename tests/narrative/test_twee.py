"""Importing Twine stories (Twee 3): passages, every link form, escapes, macros, lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from narrative.storyfile import read_story
from narrative.twee import looks_like_twee, parse_twee, split_link
from narrative.twee_import import import_twee

TWEE = Path(__file__).with_name("twee")


def imported(name: str):
    return import_twee((TWEE / f"{name}.twee").read_text(encoding="utf-8"), f"{name}.twee")


@pytest.mark.parametrize(
    ("inner", "text", "target"),
    [
        ("Go north", "Go north", "Go north"),
        ("Go north|North", "Go north", "North"),
        ("Go north->North", "Go north", "North"),
        ("North<-Go north", "Go north", "North"),
        ("a->b->c", "a->b", "c"),  # the rightmost ->
        ("c<-b<-a", "b<-a", "c"),  # the leftmost <-
        ("x|y|z", "x|y", "z"),
        ("left|right->there", "left|right", "there"),  # arrows before pipes, as Twine
    ],
)
def test_every_link_form(inner, text, target):
    assert split_link(inner) == (text, target)


def test_headers_tags_metadata_and_escapes():
    twee = parse_twee((TWEE / "lighthouse.twee").read_text(encoding="utf-8"))
    names = [p.name for p in twee.passages]
    assert names == [
        "StoryTitle", "StoryData", "On the \\shore", "The keeper", "Boat {small}",
        "Tower {north}", "Stylesheet",
    ]  # fmt: skip
    shore = twee.passage("On the \\shore")
    assert shore.tags == ("clip:lighthouse/shore", "duration:12", "policy:borda")
    assert shore.metadata == {"position": "100,100"}
    assert (shore.line, shore.text_line) == (14, 15)
    assert twee.title == "The Lighthouse" and twee.start == "On the \\shore"
    assert [(link.text, link.target, link.line) for link in shore.links()] == [
        ("The keeper", "The keeper", 17),
        ("The child", "Boat {small}", 18),
        ("The dog", "Tower {north}", 19),
        ("Nobody", "Tower {north}", 20),
    ]


def test_passages_become_scenes_and_links_options():
    result = imported("lighthouse")
    assert [d.code for d in result.diagnostics] == ["twine-special"]  # the stylesheet
    story = result.story
    assert story is not None and story.title == "The Lighthouse"
    assert story.start == "On_the_shore"  # StoryData's start, escaped name and all
    shore = story.scene("On_the_shore")
    assert shore.media == "lighthouse/shore"
    assert shore.text == "A light blinks on the water.\nWho goes out to it?"
    assert shore.choice.policy == "borda" and shore.choice.prompt == "Who goes out to it?"
    assert [(o.label, o.goto) for o in shore.choice.options] == [
        ("The keeper", "The_keeper"),
        ("The child", "Boat_small"),
        ("The dog", "Tower_north"),
        ("Nobody", "Tower_north"),
    ]
    # A clip scene's vote closes the margin before its end (the clip is lengthened).
    assert shore.duration == 16.0 and shore.choice.at == 0.0
    keeper = story.scene("The_keeper")
    assert keeper.text == "The keeper takes his coat from the hook.\nHe walks down to the jetty."
    assert keeper.next == "Boat_small" and keeper.choice is None  # one link: no vote
    boat = story.scene("Boat_small")
    assert boat.text == "The boat rocks on the swell."  # a line of links only leaves
    assert boat.choice.window == 8.0 and boat.choice.at == 4.0  # read first, then vote
    assert story.scene("Tower_north").ending


def test_the_yaml_reads_back_as_the_same_story_and_keeps_editable_text():
    result = imported("lighthouse")
    assert result.source.startswith("# Imported from lighthouse.twee (Twee 3)")
    assert "    text: |-\n      A light blinks on the water.\n" in result.source
    again = read_story(result.source, "lighthouse.yaml")
    assert again.diagnostics == [] and again.story == result.story


def test_macros_are_warnings_with_their_line_and_no_text_is_lost_silently():
    result = imported("macros")
    found = [(d.line, d.code) for d in result.diagnostics]
    assert found == [
        (5, "twine-macro"),  # (set: $lamps to 3)
        (6, "twine-macro"),  # (if: $lamps > 2)[...]
        (6, "twine-macro"),  # (else:)[...]
        (6, "twine-variable"),  # $lamps printed
        (7, "twine-macro"),  # <<set $brave to true>>
        (8, "twine-macro"),  # <<if $brave>>
        (8, "twine-macro"),  # <</if>>
        (9, "twine-setter"),  # [[Go on->End][$brave to false]]
        (14, "twine-special"),  # StoryInit
    ]
    assert all(d.severity == "warning" for d in result.diagnostics)
    start = result.story.scene("Start")
    assert "That is plenty." in start.text and "That is too few." in start.text
    assert "You feel brave." in start.text and "<<" not in start.text and "(if:" not in start.text
    assert start.next == "End"


def test_problems_point_at_the_twee_line():
    text = """:: Start
Pick one.
[[A]]
[[B]]
[[C]]
[[D]]
[[E]]
[[F->Nowhere]]

:: A
The end.

:: B
The end.

:: C
The end.

:: D
The end.

:: E
The end.
"""
    result = import_twee(text, "six.twee")
    errors = {(d.line, d.code) for d in result.diagnostics if d.severity == "error"}
    assert errors == {(8, "unknown-target"), (1, "options-count")}
    assert result.story is None
    assert "leads to no passage named 'Nowhere'" in next(
        d.message for d in result.diagnostics if d.code == "unknown-target"
    )


def test_a_start_by_name_and_a_missing_one():
    named = import_twee(":: Intro\nHello.\n[[Start]]\n\n:: Start\nBegin.\n", "s.twee")
    assert named.story.start == "Start"
    first = import_twee(":: Intro\nHello.\n", "intro.twee")
    assert first.story.start == "Intro" and first.story.title == "Intro"
    assert [d.code for d in first.diagnostics] == ["twine-start"]


def test_what_is_twee():
    assert looks_like_twee(":: Start\nHello")
    assert not looks_like_twee("kinoroom: 1\ntitle: x\n")
    assert not looks_like_twee("kinoroom: 1\nscenes:\n  a:\n    text: |\n      :: not a header\n")
    empty = import_twee("just some text", "x.twee")
    assert empty.story is None and empty.diagnostics[0].code == "schema"
