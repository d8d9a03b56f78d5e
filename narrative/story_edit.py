"""Add an approved branch to a story file's text, keeping the writer's file as written.

The script assistant's drafts become story content only here, and only when a writer
approves one (DESIGN.md: "Text drafts for writers never reach a screen until a person
approves them"). A branch is one more option on a node's choice, going to one new scene:

- ``card``: the words on a title card over the node's own footage. The scene is a
  ``montage`` fill-in (``title`` and ``prompt`` = the text, ``sources`` = the node's
  media), long enough to read: 2 s to notice plus 15 characters a second (the usual
  subtitle reading speed), clamped to 4–12 s.
- ``prompt``: a generation prompt for a ``diffusion`` fill-in of 6 s.

Either way ``media`` is the node's media, the fallback that plays when the clip is late
(DESIGN.md, "Generation: deadlines first"), and the scene goes on to where the node's
default option goes, so the story's shape past the node is unchanged.

How the text changes: JSON is re-dumped with ``json.dumps`` (indent 2; JSON has no
comments to lose). YAML is edited in place: the option is inserted as a one-line flow
mapping after the last option, the scene as a block after the last scene, at the
indentation the file already uses, so comments and layout survive. The edited text is
parsed again and must give exactly the intended data; if it does not (a layout this
does not foresee), the whole story is re-dumped with ``yaml.safe_dump`` instead, which
keeps every value but drops comments. `BranchEdit.kept_layout` says which happened.

Nothing here validates the result: the caller runs `narrative.validate` on it, so a
sixth option comes back as the validator's ``options-count`` and is refused like any
other invalid story.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import yaml

from narrative.errors import NarrativeError, StoryError
from narrative.storyfile import read_story
from narrative.yamlpos import StoryLoader, YamlSyntaxError, parse_document

Kind = Literal["card", "prompt"]
KINDS: tuple[Kind, ...] = ("card", "prompt")
CARD_MIN_S, CARD_MAX_S = 4.0, 12.0
NOTICE_S = 2.0  # before a viewer starts reading a card
READING_CHARS_PER_S = 15.0
PROMPT_SCENE_S = 6.0
ID_MAX = 64  # narrative.story.Identifier
OPTION_ID_WORDS = 4


@dataclass(frozen=True, slots=True)
class BranchEdit:
    source: str  # the whole new story text
    option_id: str
    scene_id: str
    scene: dict[str, object]  # the new scene, as written into the file
    kept_layout: bool  # False: the YAML was re-dumped (comments dropped)


def slug(text: str, *, words: int = OPTION_ID_WORDS) -> str:
    """An identifier from free text: ``"Climb onto the roof!"`` → ``climb_onto_the_roof``."""
    parts = re.findall(r"[a-z0-9]+", text.lower())[:words]
    name = "_".join(parts) or "branch"
    return name if re.match(r"[a-z_]", name) else f"b_{name}"


def unique(base: str, taken: Iterable[str]) -> str:
    """``base``, or ``base_2``, ``base_3``… whichever is free (within 64 characters)."""
    used = set(taken)
    base = base[:ID_MAX]
    n = 1
    name = base
    while name in used:
        n += 1
        suffix = f"_{n}"
        name = base[: ID_MAX - len(suffix)] + suffix
    return name


def one_line(text: str) -> str:
    """Printable characters only, every run of whitespace (line breaks too: YAML reads
    U+0085 and U+2028 as breaks) one space. Labels, cards and prompts are single lines."""
    return " ".join("".join(c for c in text if c.isprintable() or c.isspace()).split())


def card_duration(text: str) -> float:
    """Seconds a card stays up: time to notice it plus time to read it, to 0.5 s."""
    seconds = NOTICE_S + len(text.strip()) / READING_CHARS_PER_S
    return min(CARD_MAX_S, max(CARD_MIN_S, round(seconds * 2) / 2))


def branch_scene(media: str | None, next_scene: str, kind: Kind, text: str) -> dict[str, object]:
    """The new scene's data for an approved draft (see the module docstring).

    A node that shows words, not footage (a text scene), has no clip to cut from: its
    card becomes a text scene of its own, and a prompt's fallback is the prompt's words.
    """
    text = one_line(text)
    if media is None:
        if kind == "card":
            return {"text": text, "duration": card_duration(text), "next": next_scene}
        prompt = {"backend": "diffusion", "prompt": text}
        return {"text": text, "duration": PROMPT_SCENE_S, "generate": prompt, "next": next_scene}
    if kind == "card":
        generate: dict[str, object] = {
            "backend": "montage",
            "prompt": text,
            "title": text,
            "sources": [media],
        }
        duration = card_duration(text)
    else:
        generate = {"backend": "diffusion", "prompt": text}
        duration = PROMPT_SCENE_S
    return {"media": media, "duration": duration, "generate": generate, "next": next_scene}


def add_branch(source: str, fmt: str, node: str, label: str, kind: Kind, text: str) -> BranchEdit:
    """The story text with a new option at ``node`` leading to a new scene of ``kind``.

    Args:
        source: the story file's text; it must read into a well-shaped story.
        fmt: ``json`` re-dumps as JSON, as does ``yaml`` whose text is JSON; other
            YAML is edited in place.
        node: the scene whose choice gets the option.
        label: the option's label (as the voters will read it; made `one_line`).
        kind: ``card`` (``text`` is a caption) or ``prompt`` (``text`` is a prompt).

    Raises:
        StoryError: ``source`` does not read into a story.
        NarrativeError: ``unknown-node`` (no such scene) or ``no-choice`` (it has no vote).
    """
    label, text = one_line(label), one_line(text)
    parsed = read_story(source, f"story.{fmt}")
    story = parsed.story
    if story is None:
        raise StoryError(parsed.file, parsed.diagnostics)
    if node not in story.scenes:
        raise NarrativeError(f"no scene '{node}' in the story", code="unknown-node")
    scene = story.scenes[node]
    if scene.choice is None:
        raise NarrativeError(f"scene '{node}' has no choice to add a branch to", code="no-choice")
    choice = scene.choice
    option_id = unique(slug(label), (o.id for o in choice.options))
    scene_id = unique(f"{node}_{option_id}", story.scenes)
    defaults = [o.goto for o in choice.options if o.id == choice.default]
    next_scene = defaults[0] if defaults else choice.options[0].goto
    new_scene = branch_scene(scene.media, next_scene, kind, text)
    option: dict[str, object] = {"id": option_id, "label": label, "goto": scene_id}

    as_json = fmt == "json" or _is_json(source)
    data = json.loads(source) if as_json else parse_document(source).data
    assert isinstance(data, dict)  # read_story built a Story from it
    data["scenes"][node]["choice"]["options"].append(option)
    data["scenes"][scene_id] = new_scene
    if as_json:
        text_out = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        return BranchEdit(text_out, option_id, scene_id, new_scene, kept_layout=True)
    edited = _insert_yaml(source, node, option, scene_id, new_scene)
    if edited is not None and _reads_as(edited, data):
        return BranchEdit(edited, option_id, scene_id, new_scene, kept_layout=True)
    dumped = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return BranchEdit(dumped, option_id, scene_id, new_scene, kept_layout=False)


def _is_json(source: str) -> bool:
    """A file stored as YAML may be JSON (JSON is YAML): keep it JSON."""
    if not source.lstrip().startswith("{"):
        return False
    try:
        json.loads(source)
    except ValueError:
        return False
    return True


# -- in-place YAML insertion ----------------------------------------------------------


def _insert_yaml(
    source: str, node: str, option: dict[str, object], scene_id: str, scene: dict[str, object]
) -> str | None:
    """Insert text for the option and the scene; None when the layout is not one handled."""
    try:
        root = yaml.compose(source, Loader=StoryLoader)
        scenes = _child(root, "scenes")
        options = _child(_child(_child(scenes, node), "choice"), "options")
    except (yaml.YAMLError, LookupError):
        return None
    if not isinstance(scenes, yaml.MappingNode) or not isinstance(options, yaml.SequenceNode):
        return None
    if not scenes.value or not options.value:
        return None
    if scenes.flow_style:
        scene_at, scene_text = _before_close(source, scenes, f"{_flow({scene_id: scene})[1:-1]}")
    else:
        column = scenes.value[0][0].start_mark.column
        block = yaml.safe_dump(
            {scene_id: scene}, sort_keys=False, allow_unicode=True, default_flow_style=False
        )
        scene_at = _after_line(source, _last_line(scenes.value[-1][1]))
        scene_text = "".join(" " * column + line for line in block.splitlines(keepends=True))
    if options.flow_style:
        option_at, option_text = _before_close(source, options, _flow(option))
    else:
        dash = options.start_mark.column
        option_at = _after_line(source, _last_line(options.value[-1]))
        option_text = " " * dash + "- " + _flow(option) + "\n"
    if option_at > scene_at:
        return None  # the node's options after the last scene: not a layout we write into
    result = source
    if scene_at == len(result) and not result.endswith("\n") and not scenes.flow_style:
        scene_text = "\n" + scene_text
    result = result[:scene_at] + scene_text + result[scene_at:]
    if option_at == len(source) and not source.endswith("\n") and not options.flow_style:
        option_text = "\n" + option_text
    return result[:option_at] + option_text + result[option_at:]


def _child(node: yaml.Node | None, key: str) -> yaml.Node:
    if not isinstance(node, yaml.MappingNode):
        raise LookupError(key)
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            found: yaml.Node = value_node
            return found
    raise LookupError(key)


def _last_line(node: yaml.Node) -> int:
    """The 0-based last line holding ``node``'s content.

    A block collection's end mark runs on over trailing blank and comment lines to the
    next token, so its last line is that of its last child. Scalars and flow
    collections end where their text ends (a block scalar's end mark is at column 0 of
    the line after it).
    """
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and not node.flow_style:
        children: list[yaml.Node] = (
            [n for pair in node.value for n in pair]
            if isinstance(node, yaml.MappingNode)
            else list(node.value)
        )
        if children:
            return max(_last_line(child) for child in children)
    end = node.end_mark
    return end.line if end.column > 0 or end.line == node.start_mark.line else end.line - 1


def _after_line(source: str, line: int) -> int:
    """The offset where line ``line + 1`` (0-based) starts, or the end of the text."""
    offset = 0
    for _ in range(line + 1):
        found = source.find("\n", offset)
        if found < 0:
            return len(source)
        offset = found + 1
    return offset


def _before_close(source: str, node: yaml.Node, item: str) -> tuple[int, str]:
    """Where to insert ``, item`` before a flow collection's closing bracket."""
    close = node.end_mark.index - 1
    inside = source[node.start_mark.index + 1 : close].strip()
    return close, (f", {item}" if inside else item)


def _flow(value: dict[str, object]) -> str:
    dumped = yaml.safe_dump(
        value, default_flow_style=True, sort_keys=False, allow_unicode=True, width=1_000_000
    )
    return dumped.strip()


def _reads_as(text: str, data: object) -> bool:
    try:
        document = parse_document(text)
    except YamlSyntaxError:
        return False
    return not document.duplicates and document.data == data


__all__ = [
    "KINDS",
    "BranchEdit",
    "Kind",
    "add_branch",
    "branch_scene",
    "card_duration",
    "one_line",
    "slug",
    "unique",
]
