"""One ink turn as Kinoroom scenes: the rule that cuts an ink story into a film.

A turn (`narrative.ink_runtime.Turn`) is the text between two choice points. It plays
as a run of scenes, in order:

- consecutive lines of text make one **text scene**, which lasts its reading time at
  the story's pace (``# duration: S`` on one of its lines overrides); a scene takes
  lines until the next would bring it past `PAGE_WORDS` words, so a long passage turns
  pages instead of filling the screen (a single line longer than a page is cut between
  words);
- a line tagged ``# clip: MEDIA_ID`` is a **clip scene** of its own: the clip plays for
  the line's ``# duration`` (`DEFAULT_CLIP_S` without one; the core reads no media
  file), with the line's words as its caption.

The turn's last scene **hosts the vote** on the runtime's choices; with a single choice
there is nothing to vote on, and the scene goes on by itself to that choice's turn (as a
reader would click "continue"). A text scene shows its
words for their reading time, then the vote opens over them for its window, and the
scene ends `VOTE_MARGIN_S` after it closes. A clip scene opens the vote so that it closes
that margin before the clip ends (the scene is lengthened when the clip is shorter than
the window). Options are the visible choices in ink's order (at most `OPTIONS_MAX`:
any beyond are left out with a fault; the validator refuses such a story at upload),
labelled by their text (cut at 80 characters); each leads to the first scene of the
turn that choice starts. The director's cut is the choice tagged ``# default``, else the
first. With no text before a choice point, the vote is hosted by a text scene showing
its prompt; a story that ends right after a choice plays a short "The end." card.

Scene ids name the turn: ``t{depth}{option letter}-{index}`` (``t0-0`` first, ``t3b-1``
the second scene of the turn reached by the second option at the third choice point),
so every branch that may come next has an id of its own before it is computed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from narrative.ink_runtime import Turn
from narrative.ink_tags import DEFAULT_CLIP_S, StorySettings, Tags, read_tags
from narrative.reading import reading_seconds, word_count
from narrative.story import Choice, Option, Scene

VOTE_MARGIN_S = 1.0  # as the validator's (narrative.validate.VOTE_MARGIN_S)
MIN_LENGTH_S = 0.05  # however fast a `# pace`, a scene lasts at least a frame or two
OPTIONS_MAX = 5
PAGE_WORDS = 60
LABEL_MAX = 80
LETTERS = "abcde"
FALLBACK_PROMPT = "What happens next?"
THE_END = "The end."
_TURN_ID = re.compile(r"^t(\d+)([a-e]?)-(\d+)$")


def scene_id(turn: str, index: int) -> str:
    return f"t{turn}-{index}"


def child_turn(turn: str, option: int) -> str:
    """The id of the turn that choosing ``option`` (0-based) at ``turn``'s end starts."""
    depth = int(re.match(r"\d+", turn).group())  # type: ignore[union-attr]
    return f"{depth + 1}{LETTERS[option]}"


def turn_of(scene: str) -> tuple[str, int] | None:
    """``"t3b-1"`` → ``("3b", 1)``; None for an id that is not an ink scene's."""
    match = _TURN_ID.match(scene)
    return (match.group(1) + match.group(2), int(match.group(3))) if match else None


@dataclass(frozen=True, slots=True)
class BuiltTurn:
    scenes: tuple[Scene, ...]
    faults: tuple[str, ...]


@dataclass(slots=True)
class _Page:
    lines: list[str]
    duration: float | None = None
    clip: str | None = None

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def build_turn(turn_id: str, turn: Turn, settings: StorySettings) -> BuiltTurn:
    """The scenes of ``turn`` (module docstring); ``settings`` are the story's own."""
    faults: list[str] = list(turn.errors)
    if turn.outcome == "dead-end":
        faults.append(f"ink ran out of content after {turn.path or 'the start'} (no -> END)")
    pages = _pages(turn, faults)
    pace = settings.pace
    choice = _choice(turn_id, turn, settings, pages, faults) if turn.outcome == "choices" else None
    if not pages:
        pages = [_Page([choice.prompt if choice is not None else THE_END])]
    scenes: list[Scene] = []
    for index, page in enumerate(pages):
        if page.clip is not None:
            length = (page.duration or DEFAULT_CLIP_S) * pace
        else:
            length = (page.duration or reading_seconds(page.text, settings.words_per_minute)) * pace
        last = index == len(pages) - 1
        fields: dict[str, object] = {"media": page.clip, "text": page.text or None}
        if not last:
            fields["next"] = scene_id(turn_id, index + 1)
        elif choice is None:
            fields["ending"] = True
        elif len(choice.options) == 1:  # no vote on one way on
            fields["next"] = choice.options[0].goto
        elif page.clip is not None:  # the vote closes the margin before the clip ends
            length = max(length, choice.window + VOTE_MARGIN_S)
            fields["choice"] = choice.model_copy(
                update={"at": _round(length - choice.window - VOTE_MARGIN_S)}
            )
        else:  # read first, then vote over the words
            fields["choice"] = choice.model_copy(update={"at": _round(length)})
            length += choice.window + VOTE_MARGIN_S
        scenes.append(Scene.model_validate({**fields, "duration": _round(length)}))
    return BuiltTurn(tuple(scenes), tuple(faults))


def _round(seconds: float) -> float:
    return max(MIN_LENGTH_S, round(seconds, 3))


def _pages(turn: Turn, faults: list[str]) -> list[_Page]:
    pages: list[_Page] = []
    page: _Page | None = None
    for line in turn.lines:
        tags = read_tags(line.tags)
        faults.extend(tags.problems)
        text = " ".join(line.text.split())
        if tags.clip is not None:
            pages.append(_Page([text] if text else [], tags.duration, tags.clip))
            page = None
            continue
        if not text:
            if page is not None and tags.duration is not None:
                page.duration = tags.duration
            continue
        for part in _parts(text):
            if page is None or word_count(page.text) + word_count(part) > PAGE_WORDS:
                page = _Page([])
                pages.append(page)
            page.lines.append(part)
        if tags.duration is not None and page is not None:
            page.duration = tags.duration
    return pages


def _parts(line: str) -> list[str]:
    """A line longer than a page, cut at page-sized runs of words (a page never overflows)."""
    words = line.split(" ")
    if len(words) <= PAGE_WORDS:
        return [line]
    return [" ".join(words[i : i + PAGE_WORDS]) for i in range(0, len(words), PAGE_WORDS)]


def _choice(
    turn_id: str, turn: Turn, settings: StorySettings, pages: list[_Page], faults: list[str]
) -> Choice:
    offered = turn.choices[:OPTIONS_MAX]
    if len(turn.choices) > OPTIONS_MAX:
        faults.append(
            f"{len(turn.choices)} choices at {turn.choices[0].source}; a vote offers at most "
            f"{OPTIONS_MAX}: the first {OPTIONS_MAX} are offered"
        )
    choice_tags = [read_tags(c.tags) for c in offered]
    for tags in choice_tags:
        faults.extend(tags.problems)
    last_line = turn.lines[-1] if turn.lines else None
    line_tags = read_tags(last_line.tags) if last_line is not None else Tags()
    every = [line_tags, *choice_tags]
    window = next((t.window for t in every if t.window is not None), settings.window_s)
    policy = next((t.policy for t in every if t.policy is not None), None)
    prompt = next((t.prompt for t in every if t.prompt is not None), None)
    if prompt is None:
        words = [line for page in pages for line in page.lines]
        prompt = _cut(words[-1], 200) if words else FALLBACK_PROMPT
    options: list[Option] = []
    ids: set[str] = set()
    for index, choice in enumerate(offered):
        label = _cut(" ".join(choice.text.split()), LABEL_MAX) or f"Choice {index + 1}"
        option_id = _unique(_slug(label), ids)
        ids.add(option_id)
        goto = scene_id(child_turn(turn_id, index), 0)
        options.append(Option(id=option_id, label=label, goto=goto))
    tagged = [o.id for o, t in zip(options, choice_tags, strict=True) if t.default]
    return Choice(
        at=0.0,
        window=window * settings.pace,
        prompt=prompt,
        default=tagged[0] if tagged else options[0].id,
        policy=policy,
        options=options,
    )


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _slug(label: str) -> str:
    words = re.findall(r"[a-z0-9]+", label.lower())[:6]
    name = "-".join(words)[:40].strip("-") or "choice"
    return name if name[0].isalpha() else f"c-{name}"


def _unique(base: str, taken: set[str]) -> str:
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return name


__all__ = [
    "LETTERS",
    "OPTIONS_MAX",
    "PAGE_WORDS",
    "BuiltTurn",
    "build_turn",
    "child_turn",
    "scene_id",
    "turn_of",
]
