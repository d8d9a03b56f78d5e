"""The coalesced live messages: tally, presence and mood, at most one of each per interval."""

from __future__ import annotations

import json

from narrative.ballots import Pick, Ranking
from narrative.events import Join, RoomMood, Start, Tick, VoteCast
from narrative.ids import ChoiceId, DeviceId, OptionId
from narrative.policies import policy_from_spec
from narrative.screening import Screening
from server.rooms.audience import EVERYONE, PHONES, SCREENS
from server.rooms.live_feed import MOOD_REFRESH_S, PHONE_PRESENCE_PER_S, Counts, LiveFeed
from tests.narrative.screening_story import STORY_MODEL

INTERVAL = 0.25


def screening(policy: str = "plurality", phones: int = 3) -> Screening:
    s = Screening(STORY_MODEL, policy_from_spec({"name": policy}))
    for i in range(phones):
        s.handle(Join(DeviceId(f"p{i}"), 0.0))
    return s


def by_kind(sends):
    return {send.item.kind: (send.target, json.loads(send.item.text)) for send in sends}


def moods(sends):
    return [json.loads(s.item.text) for s in sends if s.item.kind == "mood"]


COUNTS = Counts(phones=3, screens=1, hosts=1)


def test_no_camera_no_message_then_only_changes_are_sent():
    s, feed = screening(), LiveFeed(INTERVAL)
    feed.changed(presence=True)
    assert moods(feed.flush(0.0, s, COUNTS, show_tally=False)) == []  # nobody shares a mood
    s.handle(RoomMood(0.3, 0.1, 0.5, 1, 3, 0.0))  # as the room feeds it
    feed.changed(mood=True)
    first = moods(feed.flush(1.0, s, COUNTS, show_tally=False))
    assert first == [
        {"type": "mood", "valence": 0.3, "arousal": 0.1, "engagement": 0.5,
         "viewers": 1, "participation": 0.33}
    ]  # fmt: skip
    s.handle(RoomMood(0.301, 0.1, 0.5, 1, 3, 1.2))
    feed.changed(mood=True)
    assert moods(feed.flush(1.5, s, COUNTS, show_tally=False)) == []  # same at two decimals
    feed.changed(presence=True)  # a screen connected: it needs the meter
    assert moods(feed.flush(2.0, s, COUNTS, show_tally=False)) == first
    s.handle(RoomMood(0.0, 0.0, 0.5, 0, 3, 20.0))  # no sample for 20 s: no camera counts
    (late,) = moods(feed.flush(2.0 + MOOD_REFRESH_S, s, COUNTS, show_tally=False))
    assert late["viewers"] == 0


def test_at_most_one_flush_per_interval():
    s, feed = screening(), LiveFeed(INTERVAL)
    feed.changed(presence=True)
    assert feed.flush(10.0, s, COUNTS, show_tally=False)
    feed.changed(presence=True)
    assert feed.flush(10.0 + INTERVAL / 2, s, COUNTS, show_tally=False) == []
    sends = feed.flush(10.0 + INTERVAL, s, COUNTS, show_tally=False)
    presence = {"type": "presence", "phones": 3, "screens": 1, "hosts": 1, "cameras": 0}
    assert [(send.target, json.loads(send.item.text)) for send in sends] == [
        (SCREENS, presence), (PHONES, presence)
    ]  # fmt: skip


def test_phones_get_presence_no_more_often_than_their_number_allows():
    many = Counts(phones=10_000, screens=1, hosts=1)
    s, feed = screening(), LiveFeed(INTERVAL)
    feed.changed(presence=True)
    first = feed.flush(0.0, s, many, show_tally=False)
    assert [send.target for send in first] == [SCREENS, PHONES]
    feed.changed(presence=True)
    second = feed.flush(INTERVAL, s, many, show_tally=False)
    assert [send.target for send in second] == [SCREENS]  # phones wait their turn
    assert 10_000 / PHONE_PRESENCE_PER_S > INTERVAL
    third = feed.flush(10_000 / PHONE_PRESENCE_PER_S, s, many, show_tally=False)
    assert [send.target for send in third] == [PHONES]


def test_the_tally_is_the_policys_count_and_goes_where_the_host_shows_it():
    s, feed = screening("borda"), LiveFeed(INTERVAL)
    s.handle(Start(0.0))
    s.handle(Tick(5.0))  # the hall's vote opens: stairs and door are visible
    s.handle(VoteCast(DeviceId("p0"), ChoiceId("hall"), Pick(OptionId("door")), 1, 6.0))
    ranking = Ranking((OptionId("stairs"), OptionId("door")))
    s.handle(VoteCast(DeviceId("p1"), ChoiceId("hall"), ranking, 1, 6.0))
    feed.changed(tally=True)
    target, tally = by_kind(feed.flush(7.0, s, COUNTS, show_tally=False))["tally"]
    assert target == SCREENS
    assert tally == {
        "type": "tally", "choice": "hall", "scores": {"stairs": 1.0, "door": 1.0},
        "voted": 2, "present": 3,
    }  # fmt: skip
    feed.changed(tally=True)
    target, _ = by_kind(feed.flush(8.0, s, COUNTS, show_tally=True))["tally"]
    assert target == EVERYONE
