"""An ink story screened by its runtime: scenes, choices, variables, tags (the Plot side)."""

from __future__ import annotations

import pytest

from narrative.events import Decide, Ended, OpenVote, PlayScene, StoryFault
from narrative.ink_scenes import PAGE_WORDS, child_turn, scene_id, turn_of
from narrative.ink_story import read_ink
from narrative.reading import MIN_TEXT_S, reading_seconds
from tests.narrative.ink_compiler import MISSING, compile_ink
from tests.narrative.ink_stories import commands_of, drive, ink, screening


def walk(name: str, picks: list[str], seed: int = 0):
    """Walk the plot by hand: enter each scene, take ``picks`` (option ids) at votes."""
    plot = ink(name).plot(seed)
    scene_id_, seen = plot.start, []
    pending = list(picks)
    while True:
        faults = plot.enter(scene_id_)
        scene = plot.scene(scene_id_)
        seen.append((scene_id_, scene, faults))
        if scene.ending:
            return plot, seen
        if scene.choice is None:
            scene_id_ = scene.next
            continue
        wanted = pending.pop(0) if pending else scene.choice.default
        scene_id_ = next(o.goto for o in scene.choice.options if o.id == wanted)


def test_the_first_scene_is_the_first_turn_and_its_choices_are_the_options():
    plot = ink("features").plot()
    first = plot.scene(plot.start)
    assert first.text == "The hall, round 1. You hold 0 coins."
    assert first.media is None  # a text scene: no footage needed
    assert [(o.id, o.label) for o in first.choice.options] == [
        ("search-the-drawer", "Search the drawer"),
        ("count-a-coin", "Count a coin"),  # the key is not found: no "Unlock the cellar"
    ]
    assert first.choice.default == "search-the-drawer"
    assert plot.live_variables() == {"coins": 0, "key": False, "rounds": 1}


def test_a_conditional_choice_shows_once_its_condition_holds():
    _, seen = walk("features", ["search-the-drawer"])
    second = seen[1][1]
    assert second.text.startswith("You find a key.")
    labels = [o.label for o in second.choice.options]
    assert "Unlock the cellar" in labels
    assert "Search the drawer" not in labels  # once-only: gone once taken


def test_a_sticky_choice_stays_and_a_tunnel_returns():
    _, seen = walk("features", ["count-a-coin", "count-a-coin"])
    after_one = seen[1][1]
    # The tunnel to the clerk runs and comes back to the hall within the same turn.
    assert after_one.text == (
        "The clerk writes the coin down. Coins: 1.\nThe hall, round 2. You hold 1 coins."
    )
    assert "Count a coin" in [o.label for o in after_one.choice.options]  # sticky
    after_two = seen[2][1]
    assert after_two.text.endswith("You hold 2 coins.")
    # {coins < 2} hides the sticky choice: the drawer is the one way on, taken without a vote
    assert after_two.choice is None
    assert "You find a key." in seen[3][1].text


def test_the_fallback_choice_is_taken_by_the_runtime_when_no_choice_is_left():
    # Drawer, two coins: the hall then offers only the cellar; from the cellar "Climb
    # back up" (one choice: the scene goes on by itself) leads to a hall with nothing
    # left, where ink follows its fallback to the end.
    plot, seen = walk("features", ["search-the-drawer", "count-a-coin", "count-a-coin"])
    texts = [scene.text for _, scene, _ in seen]
    assert texts[-1].endswith("You leave after 5 rounds with 2 coins and a key.")
    assert seen[-1][1].ending
    single = [scene for _, scene, _ in seen if scene.choice is None and scene.next]
    assert single, "a one-option choice point goes on without a vote"
    assert plot.live_variables() == {"coins": 2, "key": True, "rounds": 5}


def test_a_fallback_written_first_does_not_shift_the_options():
    # The runtime's saved state brings an invisible default back as a visible choice
    # with no text, ahead of the others; the plot never takes a branch from that state.
    _, seen = walk("fallback_first", ["no"])
    assert [o.id for o in seen[0][1].choice.options] == ["yes", "no"]
    assert [scene.text for _, scene, _ in seen] == [
        "Try 1.",
        "Try 2.",
        "Try 3.\nYou gave up after 3 tries.",
    ]


def test_scene_ids_name_turns_and_branches():
    assert scene_id("0", 0) == "t0-0"
    assert child_turn("0", 1) == "1b"
    assert child_turn("12c", 4) == "13e"
    assert turn_of("t13e-2") == ("13e", 2)
    assert turn_of("hall") is None
    plot = ink("features").plot()
    with pytest.raises(KeyError):
        plot.scene("t5a-0")  # not a branch of the current turn


def test_text_scenes_last_their_reading_time_and_votes_open_once_read():
    plot = ink("features").plot()
    first = plot.scene(plot.start)
    read = reading_seconds(first.text, 600)  # the story's # wpm: 600
    assert read == MIN_TEXT_S
    assert first.choice.at == read
    assert first.choice.window == 15.0
    assert first.duration == read + 15.0 + 1.0  # the vote closes a second before the end


def test_long_passages_turn_pages(tmp_path):
    words = " ".join(["word"] * (PAGE_WORDS - 5))
    long = " ".join(["long"] * (2 * PAGE_WORDS + 10))  # one line of more than two pages
    compiled = compile_ink(tmp_path, f"{words}\n{words}\n{long}\nThe end.\n-> END\n")
    if compiled is None:
        pytest.skip(MISSING)
    plot = read_ink(compiled).plot()
    pages = []
    scene_id_ = plot.start
    while True:
        scene = plot.scene(scene_id_)
        pages.append(scene.text)
        if scene.ending:
            break
        scene_id_ = scene.next
    page = " ".join(["long"] * PAGE_WORDS)
    rest = " ".join(["long"] * 10)
    assert pages == [words, words, page, page, f"{rest}\nThe end."]


def test_tags_set_clip_lengths_window_policy_prompt_and_default():
    plot = ink("tags").plot()
    assert plot.title == "Tagged reel"
    clip = plot.scene("t0-0")
    assert (clip.media, clip.text, clip.duration) == ("harbour/dawn", "The harbour at dawn.", 10.0)
    host = plot.scene(clip.next)
    assert host.media is None
    assert host.text == "Gulls everywhere.\nThe ferry horn sounds.\nWho boards first?"
    choice = host.choice
    assert choice.prompt == "Who boards the ferry?"
    assert choice.policy == "borda"
    assert choice.window == 4.0  # # window: 8 on a choice, at # pace: 0.5
    assert choice.default == "the-stowaway"
    assert choice.at == 3.0  # # duration: 6 on one of its lines, at pace 0.5
    deck = plot.scene(choice.options[0].goto)
    assert (deck.media, deck.duration, deck.ending) == ("ferry/deck", 5.0, True)


def test_text_scenes_take_the_story_colours():
    look = ink("lamplighter").plot().look()
    assert (look.background, look.colour) == ("#141821", "#f3e3b5")


def test_a_screening_votes_on_ink_choices_and_applies_the_decision():
    s = screening("features")
    log = drive(s, ["count-a-coin", "search-the-drawer", "unlock-the-cellar"])
    commands = commands_of(log)
    decided = [(c.choice, c.option) for c in commands if isinstance(c, Decide)]
    assert decided[:3] == [
        ("t0-0", "count-a-coin"),
        ("t1b-0", "search-the-drawer"),
        ("t2a-0", "unlock-the-cellar"),
    ]
    played = [c for c in commands if isinstance(c, PlayScene)]
    assert played[3].text == "The cellar is cold."
    assert all(c.media is None for c in played)
    assert isinstance(commands[-1], Ended)
    # Then nobody votes: the director's cuts, and one-way choice points, to the end.
    assert s.variables == {"coins": 2, "key": True, "rounds": 5}


def test_nobody_voting_takes_the_directors_cut():
    s = screening("tags")
    commands = commands_of(drive(s, []))
    [decide] = [c for c in commands if isinstance(c, Decide)]
    assert decide.option == "the-stowaway"  # tagged # default
    assert "director's cut" in decide.reason


def test_too_many_choices_offer_five_and_say_so():
    s = screening("six_choices")
    commands = commands_of(drive(s, []))
    [vote] = [c for c in commands if isinstance(c, OpenVote)]
    assert len(vote.options) == 5
    faults = [c for c in commands if isinstance(c, StoryFault)]
    assert faults and "6 choices" in faults[0].message and faults[0].scene == "t0-0"


def test_a_runtime_error_is_a_story_fault_and_the_story_ends():
    s = screening("crash")
    commands = commands_of(drive(s, ["divide"]))
    faults = [c for c in commands if isinstance(c, StoryFault)]
    assert faults and "divide" in faults[0].message
    assert isinstance(commands[-1], Ended)


def test_a_dead_end_is_a_story_fault_and_the_story_ends():
    s = screening("dead_end")
    commands = commands_of(drive(s, ["left"]))
    [fault] = [c for c in commands if isinstance(c, StoryFault)]
    assert "ran out of content" in fault.message and fault.scene == "t1a-0"
    assert isinstance(commands[-1], Ended)
