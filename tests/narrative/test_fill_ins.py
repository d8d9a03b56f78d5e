"""Generated fill-in scenes in the pure core: a `FillIn` replaces the next scene's main
cut only for the boundary it was made for, and survives snapshot and replay."""

from __future__ import annotations

import json

import pytest

from narrative.ballots import Pick
from narrative.events import (
    EventRejected,
    FillIn,
    Join,
    PlayScene,
    Start,
    Tick,
    VoteCast,
    event_from_json,
    to_json,
)
from narrative.ids import ChoiceId, DeviceId, OptionId, SceneId
from narrative.policies import policy_from_spec
from narrative.screening import Screening
from narrative.storyfile import read_story
from narrative.validate import validate_text

STORY = """
kinoroom: 1
title: Fill-ins
start: hall
style: {references: [hall], palette: ["#203040"], threshold: 0.5}
scenes:
  hall:
    media: hall
    duration: 30
    choice:
      at: 5
      window: 10
      prompt: Where now?
      default: stay
      options:
        - {id: stay, label: Stay, goto: recap}
        - {id: go, label: Go, goto: bridge}
  recap:
    media: hall
    duration: 10
    generate: {backend: montage, prompt: The night so far, sources: [hall], title: Meanwhile}
    next: hall
  bridge:
    media: bridge
    duration: 8
    generate: {backend: diffusion, prompt: A train crossing a bridge at dusk, seed: 7}
    next: end
  end: {media: end, duration: 5, ending: true}
"""


def screening() -> Screening:
    parsed = read_story(STORY)
    assert parsed.story is not None, parsed.diagnostics
    return Screening(parsed.story, policy_from_spec({"name": "plurality"}))


def plays(commands: list[object]) -> list[PlayScene]:
    return [c for c in commands if isinstance(c, PlayScene)]


def test_the_story_validates_and_checks_sources_and_references():
    assert [d.code for d in validate_text(STORY, "f.yaml") if d.severity == "error"] == []
    missing = validate_text(STORY, "f.yaml", lambda media: media != "hall")
    paths = sorted(d.format() for d in missing if d.code == "missing-media")
    assert any("montage source 'hall'" in p for p in paths)
    assert any("style reference 'hall'" in p for p in paths)


def test_a_fill_in_replaces_the_main_cut_of_the_scene_that_starts_next():
    s = screening()
    s.handle(Start(0.0))
    s.handle(Join(DeviceId("p1"), 1.0))
    s.handle(VoteCast(DeviceId("p1"), ChoiceId("hall"), Pick(OptionId("go")), 1, 6.0))
    assert s.handle(FillIn(SceneId("bridge"), "generated/j1", "j1", 12.0)) == []
    assert s.handle(FillIn(SceneId("recap"), "generated/j2", "j2", 12.5)) == []
    (bridge,) = plays(s.handle(Tick(30.0)))
    assert (bridge.scene, bridge.media, bridge.generated) == ("bridge", "generated/j1", "j1")
    assert s.now_playing == bridge
    (end,) = plays(s.handle(Tick(38.0)))
    assert (end.media, end.generated) == ("end", None)


def test_without_a_fill_in_the_fallback_plays_and_fill_ins_do_not_outlive_their_boundary():
    s = screening()
    s.handle(Start(0.0))
    s.handle(FillIn(SceneId("bridge"), "generated/j1", "j1", 12.0))  # not chosen
    (recap,) = plays(s.handle(Tick(30.0)))  # the default: stay -> recap
    assert (recap.scene, recap.media, recap.generated) == ("recap", "hall", None)
    s.handle(Join(DeviceId("p1"), 39.0))
    (hall,) = plays(s.handle(Tick(40.0)))
    s.handle(VoteCast(DeviceId("p1"), ChoiceId("hall"), Pick(OptionId("go")), 1, 46.0))
    (bridge,) = plays(s.handle(Tick(70.0)))
    assert (hall.scene, bridge.media, bridge.generated) == ("hall", "bridge", None)


@pytest.mark.parametrize(
    ("event", "code"),
    [
        (FillIn(SceneId("hall"), "generated/x", "x", 1.0), "not-generated"),
        (FillIn(SceneId("nowhere"), "generated/x", "x", 1.0), "not-generated"),
    ],
)
def test_fill_ins_for_scenes_that_are_not_generated_are_refused(event, code):
    s = screening()
    s.handle(Start(0.0))
    assert s.handle(event) == [EventRejected("FillIn", code, 1.0)]


def test_a_fill_in_too_late_or_before_the_start_is_refused():
    s = screening()
    assert s.handle(FillIn(SceneId("recap"), "g", "a", 0.0)) == [
        EventRejected("FillIn", "not-started", 0.0)
    ]
    s.handle(Start(0.0))
    s.handle(Tick(30.0))  # recap plays
    assert s.handle(FillIn(SceneId("recap"), "g", "a", 31.0)) == [
        EventRejected("FillIn", "already-playing", 31.0)
    ]


def test_snapshot_and_replay_keep_fill_ins():
    events = [
        Start(0.0),
        Join(DeviceId("p1"), 1.0),
        VoteCast(DeviceId("p1"), ChoiceId("hall"), Pick(OptionId("go")), 1, 6.0),
        FillIn(SceneId("bridge"), "generated/j1", "j1", 12.0),
    ]
    s = screening()
    for event in events:
        s.handle(event)
    data = json.loads(json.dumps(s.snapshot()))
    assert data["version"] == 5 and data["fill_ins"] == {"bridge": ["generated/j1", "j1"]}
    restored = Screening.restore(s.story, data)
    replayed = screening()
    for event in events:
        replayed.handle(event_from_json(json.loads(json.dumps(to_json(event)))))
    for other in (restored, replayed):
        (bridge,) = plays(other.handle(Tick(30.0)))
        assert bridge.generated == "j1"
        assert json.loads(json.dumps(other.snapshot()))["generated"] == ["generated/j1", "j1"]
