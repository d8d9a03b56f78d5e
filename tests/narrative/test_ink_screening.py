"""An ink screening stays exact: replay, snapshot and restore, and ink's chance seeded."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from narrative.ballots import Pick
from narrative.errors import SnapshotError
from narrative.events import (
    End,
    Event,
    Force,
    Join,
    Leave,
    PlayScene,
    Skip,
    Start,
    Tick,
    VoteCast,
    to_json,
)
from narrative.policies import policy_from_spec
from narrative.screening import Screening
from narrative.screening_state import SNAPSHOT_VERSION
from tests.narrative.ink_stories import commands_of, drive, ink, screening
from tests.narrative.screening_story import STORY_MODEL

PICKS = ["count-a-coin", "search-the-drawer", "unlock-the-cellar", "sit-down-in-the-dark"]


def replayed(name: str, seed: int, events) -> list:
    fresh = screening(name, seed)
    return [c for event in events for c in fresh.handle(event)]


def test_replaying_the_log_gives_the_same_commands_and_text():
    for name, picks in (("features", PICKS), ("lamplighter", ["wave-to-her"] * 3), ("chance", [])):
        s = screening(name, seed=11)
        log = drive(s, picks, until=400)
        again = replayed(name, 11, [event for event, _ in log])
        assert [to_json(c) for c in again] == [to_json(c) for c in commands_of(log)], name


@pytest.mark.parametrize("name", ["features", "lamplighter", "fallback_first"])
def test_restore_at_any_point_continues_exactly(name):
    s = screening(name, seed=5)
    log = drive(s, PICKS if name == "features" else ["no", "wave-to-her"], until=300)
    events = [event for event, _ in log]
    expected = [to_json(c) for c in commands_of(log)]
    for cut in range(0, len(events), max(1, len(events) // 25)):
        first = screening(name, seed=5)
        before = [c for event in events[:cut] for c in first.handle(event)]
        data = json.loads(json.dumps(first.snapshot()))
        restored = Screening.restore(ink(name), data)
        assert restored.snapshot() == data
        # ...at the same line, with the same variables:
        assert restored.now_playing == first.now_playing
        assert restored.variables == first.variables
        after = [c for event in events[cut:] for c in restored.handle(event)]
        assert [to_json(c) for c in before + after] == expected, f"cut at event {cut}"


def test_a_snapshot_carries_the_runtime_state():
    s = screening("features", seed=2)
    drive(s, PICKS[:2], until=40)
    data = s.snapshot()
    assert data["version"] == SNAPSHOT_VERSION == 6
    plot = data["plot"]
    assert plot["turn"] == s.scene.split("-")[0][1:]
    assert json.loads(plot["start"])["inkSaveVersion"]  # ink's own save format
    assert plot["variables"] == s.variables


def test_an_ink_snapshot_restores_only_onto_its_story():
    s = screening("features")
    drive(s, PICKS[:1], until=20)
    data = json.loads(json.dumps(s.snapshot()))
    with pytest.raises(SnapshotError) as mismatch:
        Screening.restore(ink("chance"), data)
    assert mismatch.value.code == "story-mismatch"
    with pytest.raises(SnapshotError) as missing:
        Screening.restore(ink("features"), {k: v for k, v in data.items() if k != "plot"})
    assert missing.value.code == "bad-snapshot"
    graph = Screening(STORY_MODEL, policy_from_spec({"name": "plurality"}))
    assert "plot" not in graph.snapshot()  # a graph has no state of its own


def rolls(seed: int) -> list[str | None]:
    s = screening("chance", seed=seed)
    log = drive(s, ["again", "again", "again", "stop"], until=200)
    return [c.text for c in commands_of(log) if isinstance(c, PlayScene)]


def test_inks_chance_is_seeded_from_the_room():
    assert rolls(1) == rolls(1)
    assert rolls(1) != rolls(2)
    assert len(set(rolls(3))) > 1  # RANDOM and the shuffle do move within a screening


# -- properties: any events into an ink screening ----------------------------------------

INK_OPTIONS = ["search-the-drawer", "count-a-coin", "unlock-the-cellar", "climb-back-up", "nope"]
step = st.one_of(
    st.builds(lambda d: ("join", d), st.sampled_from(["a", "b"])),
    st.builds(lambda d: ("leave", d), st.sampled_from(["a", "b"])),
    st.builds(
        lambda d, o: ("vote", d, o), st.sampled_from(["a", "b"]), st.sampled_from(INK_OPTIONS)
    ),
    st.just(("tick",)),
    st.just(("start",)),
    st.just(("skip",)),
    st.builds(lambda o: ("force", o), st.sampled_from(INK_OPTIONS)),
    st.just(("end",)),
)


def ink_events(items, s: Screening) -> list[Event]:
    """Events in time order; a vote goes to whatever vote is open when it is built."""
    now, seq, events = 0.0, 0, []
    for dt, (kind, *args) in items:
        now += dt
        match kind:
            case "join":
                events.append(Join(args[0], now))
            case "leave":
                events.append(Leave(args[0], now))
            case "vote":
                seq += 1
                choice = s.vote.choice if s.vote is not None else "t0-0"
                events.append(VoteCast(args[0], choice, Pick(args[1]), seq, now))
            case "tick":
                events.append(Tick(now))
            case "start":
                events.append(Start(now))
            case "skip":
                events.append(Skip(now))
            case "force":
                events.append(Force(args[0], now))
            case "end":
                events.append(End(now))
        s.handle(events[-1])
    return events


@settings(max_examples=40, deadline=None)
@given(
    items=st.lists(st.tuples(st.floats(0, 20, allow_nan=False), step), max_size=30),
    seed=st.integers(0, 2**31),
    cut=st.integers(0, 30),
)
def test_any_events_replay_and_restore_exactly(items, seed, cut):
    events = ink_events(items, screening("features", seed))
    original = screening("features", seed)
    first = [[to_json(c) for c in original.handle(e)] for e in events]
    again = screening("features", seed)
    assert [[to_json(c) for c in again.handle(e)] for e in events] == first
    cut = min(cut, len(events))
    before = screening("features", seed)
    for event in events[:cut]:
        before.handle(event)
    restored = Screening.restore(ink("features"), json.loads(json.dumps(before.snapshot())))
    assert [[to_json(c) for c in restored.handle(e)] for e in events[cut:]] == first[cut:]
    assert restored.snapshot() == again.snapshot()
