"""A room's screening drives its film: pre-read at a vote, schedule at the decision."""

from __future__ import annotations

from pathlib import Path

from mobile_bridge.film import Film, media_dir_lookup
from narrative.ballots import Pick
from narrative.events import Event, Join, Skip, Start, Tick, VoteCast
from narrative.ids import ChoiceId, DeviceId, OptionId
from server.rooms.film_cues import FilmCues, play
from tests.narrative.ink_stories import screening as ink_screening
from tests.narrative.screening_story import STORY_MODEL, screening


class Driven:
    """A screening whose commands become film orders, carried out on a real `Film` (no
    peer: no reader runs), as a room's owner orders and every process plays."""

    def __init__(self) -> None:
        self.now = 0.0
        self.screening = screening(STORY_MODEL)
        self.film = Film(lambda: self.now, media_dir_lookup(Path("/nonexistent")))
        self.cues = FilmCues(STORY_MODEL)

    def feed(self, event: Event) -> None:
        self.now = max(self.now, getattr(event, "now", self.now))
        for command in self.screening.handle(event):
            play(self.film, self.cues.feed(command))

    def scenes(self) -> list[tuple[str, float]]:
        return [(s.clip, s.starts_at) for s in self.film.timeline.scenes]


def test_a_vote_pre_reads_every_branch_and_the_decision_schedules_the_boundary():
    room = Driven()
    room.feed(Join(DeviceId("a"), 0.0))
    room.feed(Start(0.0))
    assert room.scenes() == [("hall", 0.0)]
    room.feed(Tick(5.0))  # the hall's vote opens (the cellar is hidden: no key)
    assert room.film.timeline.candidates == {"attic", "attic-fast", "attic-bored", "garden"}
    room.feed(VoteCast(DeviceId("a"), ChoiceId("hall"), Pick(OptionId("door")), 1, 6.0))
    room.feed(Tick(15.0))  # decided: the garden, from the hall's end on
    assert room.scenes() == [("hall", 0.0), ("garden", 30.0)]
    assert room.film.timeline.candidates == {"garden"}
    room.feed(Tick(30.0))  # the garden starts as scheduled: nothing more to do
    assert room.scenes() == [("hall", 0.0), ("garden", 30.0)]


def test_a_variant_replaces_the_main_cut_at_the_same_boundary():
    room = Driven()
    room.feed(Join(DeviceId("a"), 0.0))
    room.feed(Start(0.0))
    room.feed(Tick(5.0))
    room.feed(VoteCast(DeviceId("a"), ChoiceId("hall"), Pick(OptionId("stairs")), 1, 6.0))
    room.feed(Tick(15.0))
    assert room.scenes()[-1] == ("attic", 30.0)
    # Six visits later the attic plays its bored cut instead (a variant chosen at start).
    room.screening._state.variables["visits"] = 6
    room.feed(Tick(30.0))
    assert room.scenes()[-1] == ("attic-bored", 30.0)


def test_a_skip_is_a_hard_cut_now():
    room = Driven()
    room.feed(Start(0.0))
    room.feed(Skip(3.0))
    assert room.scenes()[-1][1] == 3.0


def test_an_ink_story_cues_its_clips_and_stops_the_picture_for_its_words():
    # tags.ink: a clip scene (harbour/dawn), a text scene hosting the vote, then a clip
    # whichever way it goes (ferry/deck): each option's branch is looked ahead to pre-read.
    now = 0.0
    s = ink_screening("tags")
    film = Film(lambda: now, media_dir_lookup(Path("/nonexistent")))
    cues = FilmCues(s.story)

    def feed(event: Event) -> None:
        nonlocal now
        now = max(now, event.now)
        for command in s.handle(event):
            play(film, cues.feed(command))

    feed(Join(DeviceId("a"), 0.0))
    feed(Start(0.0))
    assert [(c.clip, c.starts_at) for c in film.timeline.scenes] == [("harbour/dawn", 0.0)]
    feed(Tick(10.0))  # the text scene: no clip from its start on
    assert [(c.clip, c.starts_at) for c in film.timeline.scenes][-1] == (None, 10.0)
    feed(Tick(13.0))  # its vote opens: the deck is pre-read
    assert film.timeline.candidates == {"ferry/deck"}
    feed(Skip(14.0))
    assert [(c.clip, c.starts_at) for c in film.timeline.scenes][-1] == ("ferry/deck", 14.0)
