"""genmodels.drafts: the prompt from a story node and a brief, and drafts from any output."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genmodels.drafts import (
    FALLBACK_LABEL,
    LABEL_MAX,
    TEXT_MAX,
    Brief,
    build_messages,
    existing_sentences,
    node_context,
    parse_draft,
    write_drafts,
)
from genmodels.text import Generation, Message, TextModel
from narrative.errors import NarrativeError
from narrative.validate import load_story
from tests.genmodels.tiny_lm import build_tiny_lm

STORY = load_story(
    """
kinoroom: 1
title: The Night Train to Lindholm
start: compartment
scenes:
  compartment:
    media: demo/02-compartment
    duration: 45
    choice:
      at: 20
      window: 15
      prompt: A stranger left an envelope on Mara's seat. What does she do?
      default: open
      options:
        - {id: open, label: Tear it open, goto: dining_car}
        - {id: conductor, label: Give it to the conductor, goto: tunnel}
  tunnel:
    media: demo/04-tunnel
    duration: 20
    generate: {backend: montage, prompt: The train plunges into the tunnel., title: The long tunnel}
    next: dining_car
  dining_car:
    media: demo/05-dining-car
    duration: 50
    choice:
      at: 25
      window: 20
      prompt: The lights go out between two tunnels. Where does Mara go?
      default: watch
      options:
        - {id: cabin9, label: Unlock compartment 9, goto: reveal}
        - {id: roof, label: Climb onto the roof, goto: reveal}
        - {id: engine, label: Run for the locomotive, goto: reveal}
        - {id: watch, label: Stay and watch the passengers, goto: reveal}
  reveal:
    media: demo/10-reveal
    duration: 55
    choice:
      at: 30
      window: 20
      prompt: The lights come back. Whom does Mara accuse?
      default: conductor
      options:
        - {id: conductor, label: The conductor, goto: arrival}
        - {id: stranger, label: The stranger from the platform, goto: arrival}
  arrival: {media: demo/11-arrival, duration: 40, ending: true}
"""
)
CARD = Brief("card", theme="betrayal", mood="tense", characters="Mara, the conductor")
PROMPT = Brief("prompt")


@dataclass
class Scripted:
    """A writer that answers from a script and records what it was asked."""

    answers: list[str]
    name: str = "scripted"
    calls: list[dict[str, object]] = field(default_factory=list)

    def generate(
        self,
        messages: Sequence[Message] | str,
        *,
        max_new_tokens: int,
        seed: int,
        temperature: float,
        top_p: float,
        max_time_s: float | None,
    ) -> Generation:
        self.calls.append({"messages": messages, "seed": seed, "max_new_tokens": max_new_tokens})
        return Generation(self.answers[len(self.calls) - 1], 7, 0.25)


def test_the_node_context_is_what_a_writer_sees_around_it():
    context = node_context(STORY, "dining_car")
    assert context.prompt.startswith("The lights go out")
    assert [b.option for b in context.branches] == ["cabin9", "roof", "engine", "watch"]
    assert context.before == ("compartment", "tunnel")
    assert context.media == "demo/05-dining-car"
    assert [s.label for s in existing_sentences(context)][1] == "Climb onto the roof"
    first = node_context(STORY, "compartment")
    # a generated scene's title says what the branch shows; a plain scene has no text
    assert [b.shows for b in first.branches] == ["dining car", "The long tunnel"]
    assert [s.text for s in existing_sentences(first)] == ["", "The long tunnel"]


def test_only_choice_nodes_take_drafts():
    with pytest.raises(NarrativeError) as unknown:
        node_context(STORY, "sleeper")
    assert unknown.value.code == "unknown-node"
    with pytest.raises(NarrativeError) as plain:
        node_context(STORY, "tunnel")
    assert plain.value.code == "no-choice"


def test_the_prompt_carries_the_vote_the_options_and_the_brief():
    system, user = build_messages(node_context(STORY, "dining_car"), CARD)
    assert system["role"] == "system"
    text = user["content"]
    for expected in (
        "The Night Train to Lindholm",
        "Where does Mara go?",
        "- Climb onto the roof",
        "Theme: betrayal.",
        "Mood: tense.",
        "Characters: Mara, the conductor.",
        "Label:",
        "Card:",
    ):
        assert expected in text
    bare = build_messages(node_context(STORY, "dining_car"), PROMPT)[1]["content"]
    assert "Theme" not in bare
    assert "Prompt:" in bare
    assert "Card:" not in bare


@pytest.mark.parametrize(
    ("output", "label", "text"),
    [
        ("Label: Pull the brake\nCard: The train shrieks to a halt.", "Pull the brake",
         "The train shrieks to a halt."),
        ("**Label:** *Pull the brake*\n\n- **Card**: “The train stops.”", "Pull the brake",
         "The train stops."),
        ("1. Hide in the luggage van\n2. She waits among the trunks.",
         "Hide in the luggage van", "Hide in the luggage van. She waits among the trunks."),
        ("The lights go out between two tunnels. Mara follows the conductor.",
         "Mara follows the conductor.", "Mara follows the conductor."),
        ("The Night Train to Lindholm: Mara jumps.", "Mara jumps.", "Mara jumps."),
        ("Mara jumps. Mara jumps. Mara jumps.", "Mara jumps.", "Mara jumps."),
        ("Prompt: a dark carriage, rain on the windows", "a dark carriage, rain on the windows",
         "a dark carriage, rain on the windows"),
    ],
)  # fmt: skip
def test_parsing_takes_labelled_lines_else_the_first_fresh_sentence(output, label, text):
    context = node_context(STORY, "dining_car")
    assert parse_draft(output, CARD, context) == (label, text)


def test_nothing_usable_still_gives_a_draft_the_writer_can_edit():
    assert parse_draft("", CARD) == (FALLBACK_LABEL, "betrayal")
    assert parse_draft("  \n\x00\x1b\n", PROMPT) == (FALLBACK_LABEL, FALLBACK_LABEL)


def test_long_output_is_cut_to_what_the_story_format_holds():
    rambling = "Mara runs for the door, " + "and runs " * 200 + "until the end."
    label, text = parse_draft(rambling, CARD)
    assert label == "Mara runs for the door"  # cut at the first clause break
    assert len(text) <= TEXT_MAX["card"]
    assert text.endswith("…")
    _, prompt = parse_draft(rambling * 3, PROMPT)
    assert len(prompt) <= TEXT_MAX["prompt"]
    no_breaks = "x" * 300
    assert len(parse_draft(no_breaks, CARD)[0]) <= LABEL_MAX


@given(st.text(max_size=3000), st.sampled_from([CARD, PROMPT]))
def test_any_output_parses_into_a_label_and_a_text_within_limits(output, brief):
    label, text = parse_draft(output, brief, node_context(STORY, "reveal"))
    assert 1 <= len(label) <= LABEL_MAX
    assert 1 <= len(text) <= TEXT_MAX[brief.kind]
    assert label.strip() == label
    assert all(c.isprintable() for c in label + text)


def test_each_draft_is_one_generation_with_its_own_seed_and_provenance():
    writer = Scripted(["Label: A\nCard: One.", "Label: B\nCard: Two.", "## garbage"])
    drafts = write_drafts(writer, node_context(STORY, "reveal"), CARD, 3, seed=40)
    assert [c["seed"] for c in writer.calls] == [40, 41, 42]
    assert [(d.label, d.text) for d in drafts] == [
        ("A", "One."),
        ("B", "Two."),
        ("garbage", "garbage"),
    ]
    first = drafts[0]
    assert (first.seed, first.model, first.seconds, first.new_tokens) == (40, "scripted", 0.25, 7)
    assert "Whom does Mara accuse?" in first.prompt
    assert first.raw == "Label: A\nCard: One."


def test_a_tiny_random_model_still_yields_usable_drafts(tmp_path):
    model = TextModel.load(build_tiny_lm(tmp_path / "lm", chat_template=True), device="cpu")
    drafts = write_drafts(model, node_context(STORY, "compartment"), CARD, 3, seed=1)
    assert len(drafts) == 3
    for draft in drafts:
        assert 1 <= len(draft.label) <= LABEL_MAX
        assert draft.text
        assert draft.model == "lm"
        assert draft.new_tokens > 0
