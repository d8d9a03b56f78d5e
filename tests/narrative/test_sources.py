"""One door for every story format: told apart by content, loaded, checked, drawn."""

from __future__ import annotations

from pathlib import Path

import pytest

from narrative.errors import StoryError
from narrative.ink_story import InkStory
from narrative.sources import check_source, detect_format, for_storage, graph_of, load_source
from narrative.stories import DEMO
from narrative.story import Story
from tests.narrative.ink_stories import text_of

TWEE = (Path(__file__).with_name("twee") / "lighthouse.twee").read_text(encoding="utf-8")
YAML = DEMO.read_text(encoding="utf-8")


def test_the_format_comes_from_the_content():
    assert detect_format(text_of("features")) == "ink"  # with its byte-order mark
    assert detect_format(text_of("features").lstrip("\ufeff")) == "ink"
    assert detect_format(TWEE) == "twee"
    assert detect_format(YAML) == "yaml"
    assert detect_format('{"kinoroom": 1, "title": "t"}') == "json"


def test_loading_any_format():
    assert isinstance(load_source(text_of("lamplighter"), "l.ink.json"), InkStory)
    assert isinstance(load_source(TWEE, "l.twee"), Story)
    assert isinstance(load_source(YAML, "demo.yaml"), Story)
    with pytest.raises(StoryError) as error:
        load_source(":: Start\n[[Nowhere]]\n\n:: End\nBye.\n", "bad.twee")
    assert error.value.code == "unknown-target"


def test_checking_any_format_points_where_a_writer_edits():
    [ink_error, _] = check_source(text_of("six_choices"), "six.ink.json")
    assert ink_error.format().startswith("six.ink.json:0.")  # an ink path, not a line
    twee = check_source(TWEE, "l.twee", media_exists=lambda media: False)
    assert {(d.code, d.severity) for d in twee} == {
        ("twine-special", "warning"),  # at the Twee line of the stylesheet passage
        ("missing-media", "warning"),  # the shore's clip, with a media folder given
    }
    lines = {d.code: d.line for d in twee}
    assert (lines["twine-special"], lines["missing-media"]) == (33, 14)  # Twee lines
    assert check_source(YAML, "demo.yaml") == []


def test_storing_keeps_twee_as_its_yaml_and_ink_as_it_is():
    twee = for_storage(TWEE, "l.twee")
    assert twee.fmt == "yaml" and twee.source.startswith("# Imported from l.twee")
    assert load_source(twee.source, "again.yaml").digest() == twee.digest
    ink = for_storage(text_of("lamplighter"), "l.ink.json")
    assert ink.fmt == "json" and not ink.source.startswith("\ufeff")
    assert ink.title == "The Last Lamplighter"
    with pytest.raises(StoryError) as error:
        for_storage(text_of("dead_end"), "d.ink.json")  # exploration errors refuse it
    assert error.value.code == "dead-end"


def test_graphs_of_every_format():
    assert graph_of(YAML, "demo.yaml").start == "platform"
    assert "On_the_shore" in graph_of(TWEE, "l.twee").nodes
    ink = graph_of(text_of("features"), "f.ink.json")
    assert ink.start == "hall.0" and "END" in ink.nodes
