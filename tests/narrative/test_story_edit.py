"""narrative.story_edit: an approved draft becomes an option and a scene, file kept as written."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from narrative import story_edit
from narrative.errors import NarrativeError, StoryError
from narrative.stories import DEMO
from narrative.story_edit import add_branch, card_duration, one_line, slug, unique
from narrative.validate import load_story, validate_text

BLOCK = """\
# A writer's story: comments and layout must survive an approval.
kinoroom: 1
title: Night train
start: door
scenes:
    door:                       # four-space indentation, on purpose
        media: clips/door
        duration: 30
        choice:
            at: 5
            window: 10
            prompt: Open the door?
            default: wait
            options:
                -   id: open
                    label: Open it
                    goto: hall
                -   id: wait
                    label: Wait
                    goto: end   # the director's cut
    hall:
        media: clips/hall
        duration: 20
        next: end

    # the ending
    end:
        media: clips/end
        duration: 5
        ending: true
"""

FLOW = """\
kinoroom: 1
title: Flow
start: a
scenes: {a: {media: m/a, duration: 30, choice: {at: 1, window: 5, prompt: Go on, default: x,
  options: [{id: x, label: X, goto: b}, {id: y, label: Y, goto: b}]}},
  b: {media: m/b, duration: 3, ending: true}}"""


def errors(source: str) -> list[str]:
    return [d.code for d in validate_text(source, "edited.yaml") if d.severity == "error"]


def test_a_card_branch_is_appended_and_every_original_line_survives():
    edit = add_branch(BLOCK, "yaml", "door", "Knock twice", "card", "Nobody answers. Twice.")
    assert edit.kept_layout
    assert (edit.option_id, edit.scene_id) == ("knock_twice", "door_knock_twice")
    old, new = BLOCK.splitlines(), edit.source.splitlines()
    added = [line for line in new if line not in old]
    assert [line for line in new if line in old] == old  # nothing lost or reordered
    assert (
        added[0]
        == "                - {id: knock_twice, label: Knock twice, goto: door_knock_twice}"
    )
    assert (
        new.index(added[0]) == old.index("                    goto: end   # the director's cut") + 1
    )
    assert added[1] == "    door_knock_twice:"  # after the last scene, at the scenes' indentation
    assert errors(edit.source) == []
    story = load_story(edit.source)
    assert story.scenes["door"].choice.options[-1].goto == "door_knock_twice"
    scene = story.scenes["door_knock_twice"]
    assert scene.media == "clips/door"  # the node's footage is the fallback
    assert scene.next == "end"  # where the default option ('wait') goes
    assert scene.generate.backend == "montage"
    assert scene.generate.title == scene.generate.prompt == "Nobody answers. Twice."
    assert scene.generate.sources == ["clips/door"]
    assert scene.duration == card_duration("Nobody answers. Twice.") == 4.0


def test_a_prompt_branch_is_a_diffusion_scene_of_six_seconds():
    edit = add_branch(BLOCK, "yaml", "door", "Climb out", "prompt", "A window, rain, a ledge")
    scene = load_story(edit.source).scenes[edit.scene_id]
    assert scene.generate.backend == "diffusion"
    assert scene.generate.prompt == "A window, rain, a ledge"
    assert scene.duration == 6.0
    assert scene.media == "clips/door"
    assert edit.scene == {
        "media": "clips/door",
        "duration": 6.0,
        "generate": {"backend": "diffusion", "prompt": "A window, rain, a ledge"},
        "next": "end",
    }


def test_cards_stay_up_long_enough_to_read_within_bounds():
    assert card_duration("Hi.") == 4.0
    assert card_duration("x" * 90) == 8.0  # 2 s + 90 characters at 15 a second
    assert card_duration("x" * 1000) == 12.0


def test_the_bundled_demo_takes_a_branch_and_keeps_its_comments():
    source = DEMO.read_text(encoding="utf-8")
    story = load_story(source)
    node = next(s for s, scene in story.scenes.items() if scene.choice is not None)
    edit = add_branch(source, "yaml", node, "Wake the stranger", "card", "She will not wake.")
    assert edit.kept_layout
    assert all(line in edit.source for line in source.splitlines() if line.lstrip().startswith("#"))
    assert errors(edit.source) == []
    assert load_story(edit.source).digest() != story.digest()


def test_flow_style_files_are_edited_inside_their_brackets():
    edit = add_branch(FLOW, "yaml", "a", "Z: the last one", "card", "Fin")
    assert edit.kept_layout
    assert edit.source.startswith(FLOW.split("{id: y", 1)[0])
    assert errors(edit.source) == []
    options = load_story(edit.source).scenes["a"].choice.options
    assert [o.label for o in options] == ["X", "Y", "Z: the last one"]


def test_json_stays_json():
    data = json.loads(json.dumps(load_story(BLOCK).model_dump(mode="json", by_alias=True)))
    source = json.dumps(data)
    for fmt in ("json", "yaml"):  # a YAML upload whose text is JSON stays JSON too
        edit = add_branch(source, fmt, "door", "Knock", "card", "Knock knock.")
        reread = json.loads(edit.source)
        assert reread["scenes"]["door_knock"]["next"] == "end"
        assert [o["id"] for o in reread["scenes"]["door"]["choice"]["options"]][-1] == "knock"
        assert errors(edit.source) == []


def test_labels_that_yaml_would_misread_come_back_exactly():
    for label in ("yes", "no: never", "#1 choice", "'quoted'", "[brackets]", "true", "Ünïcödé ✓"):
        edit = add_branch(BLOCK, "yaml", "door", label, "card", "text")
        assert load_story(edit.source).scenes["door"].choice.options[-1].label == label


def test_labels_and_texts_are_made_one_line_of_printable_text():
    assert one_line(" a\x85b\u2028c\n d\x00e\t ") == "a b c de"
    edit = add_branch(BLOCK, "yaml", "door", "Go\nnow", "card", "Line one\r\nline two")
    option = load_story(edit.source).scenes["door"].choice.options[-1]
    assert option.label == "Go now"
    assert edit.scene["generate"] == {
        "backend": "montage",
        "prompt": "Line one line two",
        "title": "Line one line two",
        "sources": ["clips/door"],
    }


def test_ids_are_derived_from_the_label_and_never_collide():
    once = add_branch(BLOCK, "yaml", "door", "Open it!", "card", "a")
    assert once.option_id == "open_it"
    twice = add_branch(once.source, "yaml", "door", "Open it", "card", "b")
    assert (twice.option_id, twice.scene_id) == ("open_it_2", "door_open_it_2")
    assert errors(twice.source) == []
    assert slug("42 ways out") == "b_42_ways_out"
    assert slug("!!!") == "branch"
    assert unique("x" * 70, ["x" * 64]) == "x" * 62 + "_2"


def test_a_sixth_option_is_the_validators_options_count_error():
    source = BLOCK
    for n in range(3):
        source = add_branch(source, "yaml", "door", f"Branch {n}", "card", "t").source
    assert errors(source) == []  # five options
    sixth = add_branch(source, "yaml", "door", "One too many", "card", "t").source
    assert errors(sixth) == ["options-count"]


def test_a_card_longer_than_a_title_holds_is_refused_by_the_validator():
    edit = add_branch(BLOCK, "yaml", "door", "Talk", "card", "word " * 60)
    assert "schema" in errors(edit.source)


def test_only_a_scene_with_a_vote_takes_a_branch():
    with pytest.raises(NarrativeError) as unknown:
        add_branch(BLOCK, "yaml", "attic", "x", "card", "y")
    assert unknown.value.code == "unknown-node"
    with pytest.raises(NarrativeError) as plain:
        add_branch(BLOCK, "yaml", "hall", "x", "card", "y")
    assert plain.value.code == "no-choice"
    with pytest.raises(StoryError):
        add_branch("kinoroom: [", "yaml", "door", "x", "card", "y")


def test_a_file_without_a_final_newline_whose_node_is_last():
    source = BLOCK.replace("    # the ending\n    end:", "    end:").rstrip("\n")
    source = source.replace("    door:", "    early:\n        media: m\n        duration: 3\n"
                            "        next: door\n    door:")  # fmt: skip
    moved = source.replace("start: door", "start: early")
    # put the voting scene last
    head, door_block = moved.split("    door:", 1)
    door_block, rest = door_block.split("    hall:", 1)
    last = head + "    hall:" + rest + "\n    door:" + door_block.rstrip("\n")
    assert errors(last) == []
    edit = add_branch(last, "yaml", "door", "Knock", "prompt", "a knock")
    assert edit.kept_layout
    assert errors(edit.source) == []


def test_a_layout_the_in_place_edit_gets_wrong_is_re_dumped(monkeypatch):
    monkeypatch.setattr(story_edit, "_insert_yaml", lambda *args: BLOCK + "oops: 1\n")
    edit = add_branch(BLOCK, "yaml", "door", "Knock", "card", "Knock knock.")
    assert not edit.kept_layout
    assert "#" not in edit.source  # comments are gone, values are not
    assert errors(edit.source) == []
    assert load_story(edit.source).scenes["door_knock"].next == "end"


@given(st.text(min_size=1, max_size=80).filter(lambda s: s.strip()), st.text(max_size=150))
def test_any_label_and_text_give_a_story_that_reads_back_as_written(label, text):
    edit = add_branch(BLOCK, "yaml", "door", label, "card", text or "t")
    story = load_story(edit.source) if errors(edit.source) == [] else None
    if story is not None:
        assert story.scenes["door"].choice.options[-1].label == one_line(label)
        assert story.scenes[edit.scene_id].generate.title == one_line(text or "t")
    else:  # the validator refuses (e.g. a label of only control characters): never a crash
        assert errors(edit.source)
