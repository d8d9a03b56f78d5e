"""Text scenes in story files: words on screen, as long as the room needs to read them."""

from __future__ import annotations

import pytest

from narrative.events import PlayScene, Start
from narrative.policies import policy_from_spec
from narrative.reading import MIN_TEXT_S, reading_seconds, text_look
from narrative.screening import Screening
from narrative.stories import DEMO
from narrative.storyfile import read_story
from narrative.validate import load_story, validate_text

STORY = """\
kinoroom: 1
title: Words
start: a
reading: {words_per_minute: 120}
scenes:
  a:
    text: One two three four five six seven eight nine ten eleven twelve thirteen fourteen.
    next: b
  b:
    text: Short.
    duration: 2.5
    next: c
  c:
    media: clips/c
    text: A caption over a clip.
    duration: 9
    ending: true
"""


def test_reading_time_follows_the_words_and_the_pace():
    assert reading_seconds("word " * 30, 180) == 10.0
    assert reading_seconds("word " * 31, 180) == 10.4  # rounded up to a tenth
    assert reading_seconds("Hi.", 180) == MIN_TEXT_S
    with pytest.raises(ValueError, match="positive number"):
        reading_seconds("x", 0)


def test_a_text_scene_without_a_duration_lasts_its_reading_time():
    story = load_story(STORY, "words.yaml")
    assert story.scene("a").duration == 7.0  # 14 words at 120 a minute
    assert story.scene("b").duration == 2.5  # the writer's duration wins
    assert story.scene("c").media == "clips/c" and story.scene("c").text


def test_a_screening_plays_text_scenes_with_their_words_and_no_clip():
    story = load_story(STORY, "words.yaml")
    s = Screening(story, policy_from_spec({"name": "plurality"}))
    [play] = [c for c in s.handle(Start(0.0)) if isinstance(c, PlayScene)]
    assert (play.media, play.ends_at) == (None, 7.0)
    assert play.text.startswith("One two three")


def test_a_scene_needs_media_or_text():
    text = STORY.replace("    text: Short.\n", "")
    [problem] = validate_text(text, "words.yaml")
    assert (problem.code, problem.line) == ("schema", 10)  # the scene b
    assert "media, shows text, or both" in problem.message


def test_text_colours_come_from_the_story_then_its_palette():
    assert text_look(None, None) == text_look(None, None, [])
    assert text_look(None, None, ["#000000", "#ffffff"]).colour == "#ffffff"
    assert text_look("#111111", None, ["#000000"]).background == "#111111"
    story = read_story(
        STORY.replace("{words_per_minute: 120}", "{background: '#202020'}"), "w.yaml"
    ).story
    assert story.look().background == "#202020"


def test_stories_without_text_keep_their_digest():
    # Rooms and snapshots refer to stories by digest: new optional fields change nothing
    # (the demo's `about` block, added since, is the one change to its digest).
    demo = load_story(DEMO.read_text(encoding="utf-8"))
    assert demo.about is not None
    assert demo.model_copy(update={"about": None}).digest() == "8b3061f767cdf6b7"
