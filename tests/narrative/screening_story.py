"""The story and helpers the Screening tests share."""

from __future__ import annotations

from narrative.events import RoomMood
from narrative.mood import LiveMood, Sample
from narrative.policies import policy_from_spec
from narrative.screening import Screening
from narrative.story import Story
from narrative.yamlpos import parse_document

STORY = """
kinoroom: 1
title: Test reel
start: hall
variables: {has_key: false, visits: 0}
scenes:
  hall:
    media: hall
    duration: 30
    set: {visits: visits + 1}
    choice:
      at: 5
      window: 10
      prompt: Where now?
      default: stairs
      quorum: 0
      options:
        - {id: stairs, label: Take the stairs, goto: attic, mood: {arousal: low}}
        - {id: cellar, label: Open the cellar, goto: cellar, if: has_key}
        - {id: door, label: Leave by the door, goto: garden, set: {has_key: true},
           mood: {arousal: high}}
  attic:
    media: attic
    duration: 20
    variants:
      - {when: mood.arousal > 0.3, media: attic-fast, music_gain_db: 3}
      - {when: visits > 5, media: attic-bored}
    next: finale
  cellar: {media: cellar, duration: 20, next: finale}
  garden:
    media: garden
    duration: 20
    choice:
      at: 2
      window: 5
      prompt: Back inside?
      default: back
      options:
        - {id: back, label: Back to the hall, goto: hall}
        - {id: on, label: Go on, goto: finale}
  finale: {media: finale, duration: 10, locked: true, ending: true}
"""


STORY_MODEL = Story.model_validate(parse_document(STORY).data)


def screening(story: Story, policy: str = "plurality", seed: int = 7) -> Screening:
    return Screening(story, policy_from_spec({"name": policy}), seed=seed)


def run(s: Screening, *events):
    return [command for event in events for command in s.handle(event)]


def of(kind, commands):
    return [c for c in commands if isinstance(c, kind)]


def sense(s: Screening, at: float, *samples: Sample, live: LiveMood | None = None):
    """What the server's room does with phones' affect: keep each phone's latest sample
    in memory (``live``), feed the screening the room's reading at ``at`` (`RoomMood`)."""
    live = live if live is not None else LiveMood()
    for sample in samples:
        live.add(sample)
    return run(s, RoomMood.of(live.reading(at, present=set(s.devices)), at))
