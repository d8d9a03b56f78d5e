"""Branch drafts for writers: the prompt an LM gets, and what is made of its answer.

The studio asks for N drafts at a story node. Each draft is one generation with its own
seed (``seed``, ``seed + 1``, …), so drafts differ by sampling alone and any one of them
can be made again from its provenance. The prompt gives the model what a writer would
look at: the film's title, the node's vote prompt, the options it already has and where
they lead, the scenes around it, and the writer's brief (theme, mood, characters, and
whether the draft is a caption ``card`` or a ``prompt`` for a generated scene). It asks
for two lines, ``Label: …`` and ``Card: …`` / ``Prompt: …``.

Small models do not always comply, so `parse_draft` never fails: it takes the labelled
lines when there are any, else the first line as the label and the rest as the text,
strips list markers, quotes and markdown, cuts the label to 80 characters (the story
format's limit) and the text to what the scene can hold (a card's title is at most 200
characters, a prompt 2,000), and falls back to the brief when the model wrote nothing.
Drafts are only proposals: nothing here touches a story (`narrative.story_edit` does,
on approval).

This module imports no torch: it drives any `Writer` (`genmodels.text.TextModel` in
production, a stub in tests).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from genmodels.diversity import Sentence
from genmodels.text import Generation, Message
from narrative.errors import NarrativeError
from narrative.story import Scene, Story
from narrative.story_edit import Kind

LABEL_MAX = 80  # narrative.story.Option.label
LABEL_SHORT = 60  # a label past this is cut at a clause break when it has one
TEXT_MAX: dict[Kind, int] = {"card": 200, "prompt": 2000}  # Generate.title / Generate.prompt
MAX_NEW_TOKENS = 80
TEMPERATURE = 0.9  # drafts should differ: sample warm
TOP_P = 0.95
MAX_TIME_S = 60.0  # per draft; a slow CPU returns what it has by then
FALLBACK_LABEL = "Untitled branch"

_ANSWER = {
    "card": "Card: (one sentence for a title card)",
    "prompt": "Prompt: (one sentence: what the new scene shows)",
}
_FIELD = re.compile(
    r"^\W*(label|choice|option|title|card|caption|text|prompt|scene|description)\W*:\s*(.*)$",
    re.I,
)
_LABEL_FIELDS = ("label", "choice", "option", "title")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_LIST_MARK = re.compile(r"^\s*(?:[-*•>#]+|\d+[.)])\s*")


class Writer(Protocol):
    name: str

    def generate(
        self,
        messages: Sequence[Message] | str,
        *,
        max_new_tokens: int,
        seed: int,
        temperature: float,
        top_p: float,
        max_time_s: float | None,
    ) -> Generation: ...


@dataclass(frozen=True, slots=True)
class Brief:
    kind: Kind
    theme: str = ""
    mood: str = ""
    characters: str = ""


@dataclass(frozen=True, slots=True)
class Branch:
    option: str
    label: str
    goto: str
    shows: str  # what the target scene shows: its generate title/prompt, else its name


@dataclass(frozen=True, slots=True)
class NodeContext:
    title: str
    node: str
    prompt: str
    branches: tuple[Branch, ...]
    before: tuple[str, ...]  # scenes that lead to the node
    media: str | None  # None: the node is a text scene


@dataclass(frozen=True, slots=True)
class Draft:
    label: str
    text: str
    raw: str  # what the model wrote
    seed: int
    model: str
    prompt: str  # the user message it was given
    seconds: float
    new_tokens: int


def scene_name(scene_id: str) -> str:
    return scene_id.replace("_", " ").replace("-", " ")


def shows(scene_id: str, scene: Scene | None) -> str:
    if scene is not None and scene.generate is not None:
        return scene.generate.title or scene.generate.prompt
    return scene_name(scene_id)


def node_context(story: Story, node: str) -> NodeContext:
    """What a writer sees around ``node``.

    Raises:
        NarrativeError: ``unknown-node`` or ``no-choice`` (the scene has no vote).
    """
    scene = story.scenes.get(node)
    if scene is None:
        raise NarrativeError(f"no scene '{node}' in the story", code="unknown-node")
    if scene.choice is None:
        raise NarrativeError(f"scene '{node}' has no choice", code="no-choice")
    branches = tuple(
        Branch(o.id, o.label, o.goto, shows(o.goto, story.scenes.get(o.goto)))
        for o in scene.choice.options
    )
    before = tuple(s for s, other in story.scenes.items() if node in other.targets())
    return NodeContext(story.title, node, scene.choice.prompt, branches, before, scene.media)


def existing_sentences(context: NodeContext) -> list[Sentence]:
    """The node's branches as the diversity score compares them."""
    return [
        Sentence(f"option '{b.option}'", b.label, b.shows if b.shows != scene_name(b.goto) else "")
        for b in context.branches
    ]


def build_messages(context: NodeContext, brief: Brief) -> list[Message]:
    """The chat for one draft: compact, because a 135M model echoes whatever it is shown.

    Tried on SmolLM2-135M (the default): longer context (the scenes before, where each
    option leads), a worked example or an assistant turn prefilled with ``Label:`` made
    it copy the prompt or the example instead of writing; this shape gave the most
    usable one-liners. Larger models (``KINOROOM_TEXT_MODEL``) follow the two-line format.
    """
    options = "\n".join(f"- {b.label}" for b in context.branches)
    wishes = " ".join(
        f"{name}: {value.strip()}."
        for name, value in (
            ("Theme", brief.theme),
            ("Mood", brief.mood),
            ("Characters", brief.characters),
        )
        if value.strip()
    )
    lines = [
        f"Film: {context.title}",
        f"Question: {context.prompt}",
        f"Options:\n{options}",
        *([wishes] if wishes else []),
        "Write a new option, different from these.",
        "Label: (at most 8 words)",
        _ANSWER[brief.kind],
    ]
    system = "You write short branch options for an interactive film."
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n".join(lines)}]


def _clean(line: str) -> str:
    line = _LIST_MARK.sub("", line)
    line = re.sub(r"[*_`]{1,3}", "", line)  # markdown emphasis
    line = "".join(c for c in line if c.isprintable())
    line = re.sub(r"\s+", " ", line).strip()
    return line.strip("\"'“”‘’ ").strip()


def _cut(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, at a sentence or word end when there is one."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    for stop in (". ", "! ", "? "):
        at = head.rfind(stop)
        if at >= limit // 2:
            return head[: at + 1]
    at = head.rfind(" ")
    return (head[:at] if at >= limit // 2 else head).rstrip(" ,;:") + "…"


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9']+", text.lower()))


def _echoes(sentence: str, context: NodeContext | None) -> bool:
    """Whether a sentence mostly repeats the vote prompt or the film's title."""
    if context is None:
        return False
    words = _words(sentence)
    if not words:
        return True
    return any(
        len(words & _words(given)) >= 0.8 * len(words) for given in (context.prompt, context.title)
    )


def _strip_title(sentence: str, title: str) -> str:
    at = sentence.lower().find(title.lower())
    if at < 0:
        return sentence.strip()
    rest = (sentence[:at] + sentence[at + len(title) :]).strip()
    return rest.lstrip(" .,:;-–—").strip() if rest.strip(" .,:;-–—") else ""


def _short(sentence: str) -> str:
    """A long first sentence as a label: up to its first clause break, when that fits."""
    if len(sentence) <= LABEL_SHORT:
        return sentence
    breaks = [m.start() for m in re.finditer(r"[,:;–—]\s", sentence) if m.start() >= 12]
    fits = [b for b in breaks if b <= LABEL_SHORT]
    return sentence[: fits[0]] if fits else sentence


def parse_draft(output: str, brief: Brief, context: NodeContext | None = None) -> tuple[str, str]:
    """``(label, text)`` from whatever the model wrote; never raises, never empty.

    Labelled lines (``Label:``, ``Card:``…) win; otherwise the loose sentences that do
    not just repeat the vote prompt or the title (when ``context`` is given): the first
    is the label, all of them the text.
    """
    label = text = ""
    loose: list[str] = []
    for raw in output.splitlines():
        match = _FIELD.match(raw)
        if match:
            field, value = match.group(1).lower(), _clean(match.group(2))
            if field in _LABEL_FIELDS and not label:
                label = value
            elif field not in _LABEL_FIELDS and not text:
                text = value
            continue
        cleaned = _clean(raw)
        if cleaned:
            loose += [s for s in _SENTENCE_END.split(cleaned) if s.strip()]
    if context is not None:  # a small model likes to open with the film's title
        loose = [_strip_title(s, context.title) for s in loose]
    loose = list(dict.fromkeys(s for s in loose if s))  # and to repeat itself
    fresh = [s for s in loose if not _echoes(s, context)] or loose
    if not label and fresh:
        label = _short(fresh[0])
    if not text:
        # lines become sentences; one line alone stays as written (a prompt needs no stop)
        stopped = [s if s[-1] in ".!?…" else f"{s}." for s in fresh]
        text = " ".join(stopped) if len(fresh) > 1 else "".join(fresh)
    if not label:
        label = _cut(text, LABEL_MAX) if text else FALLBACK_LABEL
    if not text:
        text = label if label != FALLBACK_LABEL else (brief.theme.strip() or label)
    return _cut(label, LABEL_MAX), _cut(text, TEXT_MAX[brief.kind])


def write_drafts(
    writer: Writer,
    context: NodeContext,
    brief: Brief,
    n: int,
    *,
    seed: int,
    max_new_tokens: int = MAX_NEW_TOKENS,
) -> list[Draft]:
    """``n`` drafts, one generation each with seeds ``seed … seed + n - 1`` (blocking).

    Raises:
        GenerationError: the writer fails (e.g. its model cannot load).
    """
    messages = build_messages(context, brief)
    drafts = []
    for i in range(n):
        generation = writer.generate(
            messages,
            max_new_tokens=max_new_tokens,
            seed=seed + i,
            temperature=TEMPERATURE,
            top_p=TOP_P,
            max_time_s=MAX_TIME_S,
        )
        label, text = parse_draft(generation.text, brief, context)
        drafts.append(
            Draft(
                label=label,
                text=text,
                raw=generation.text,
                seed=seed + i,
                model=writer.name,
                prompt=messages[-1]["content"],
                seconds=round(generation.seconds, 3),
                new_tokens=generation.new_tokens,
            )
        )
    return drafts


__all__ = [
    "Branch",
    "Brief",
    "Draft",
    "NodeContext",
    "Writer",
    "build_messages",
    "existing_sentences",
    "node_context",
    "parse_draft",
    "write_drafts",
]
