"""A room's screening drives its film: pre-read at a vote, schedule at the decision."""

from __future__ import annotations

from pathlib import Path

from mobile_bridge.film import Film, media_dir_lookup
from narrative.ballots import Pick
from narrative.events import Event, Join, Skip, Start, Tick, VoteCast
from narrative.ids import ChoiceId, DeviceId, OptionId
from server.rooms.film_cues import FilmCues
from tests.narrative.screening_story import STORY_MODEL, screening


class Driven:
    """A screening whose commands feed a real `Film` (no peer: no reader runs)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.screening = screening(STORY_MODEL)
        self.film = Film(lambda: self.now, media_dir_lookup(Path("/nonexistent")))
        self.cues = FilmCues(STORY_MODEL, lambda: self.film)

    def feed(self, event: Event) -> None:
        self.now = max(self.now, getattr(event, "now", self.now))
        for command in self.screening.handle(event):
            self.cues.feed(command)

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
