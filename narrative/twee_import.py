"""A Twine story (Twee 3) as a Kinoroom story: every passage a scene, every link an option.

Twine stories are graphs, so they convert (ink stories are programs and are screened
instead: `narrative.ink_story`). The import writes Kinoroom YAML a writer can go on
editing, and reports every problem at its line in the Twee file:

- a passage becomes a **text scene** (its words, paced for reading), or a clip scene when
  tagged ``clip:MEDIA_ID`` (its words become the caption; ``duration:S`` sets the length,
  10 s without); ``window:S`` and ``policy:NAME`` tags set its vote;
- its links (every Twee form, `narrative.twee.split_link`) are the ways on: none, the
  passage is an ending; one, the scene goes on by itself (a film does not wait for a
  click); two or more, a vote whose options are the links, in order, the first being the
  director's cut, opening once the words are read. A line made only of links leaves the
  text; an inline link keeps its words in the sentence;
- story-format code Kinoroom cannot run is never dropped silently: each macro is a
  ``twine-macro`` warning with its line (its markup leaves the text, the words inside
  its hook stay), a SugarCube link setter a ``twine-setter`` warning, a printed
  variable (``$name``) a ``twine-variable`` warning, and a passage of code (``script``,
  ``stylesheet``, ``widget`` tags, ``StoryInit`` and the like) a ``twine-special``
  warning;
- the result is validated like any story, and each of the validator's diagnostics is
  moved from the YAML to the Twee line it comes from (the passage's header, or the link
  for an option).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import yaml

from narrative.diagnostics import Diagnostic, Severity
from narrative.ink_tags import DEFAULT_CLIP_S, DEFAULT_WINDOW_S, read_tags
from narrative.reading import reading_seconds
from narrative.story import Story
from narrative.storyfile import read_story
from narrative.twee import SPECIAL, Link, Passage, TweeFile, link_words, parse_twee
from narrative.validate import VOTE_MARGIN_S, check_story
from narrative.yamlpos import parse_document

CODE_TAGS = frozenset({"script", "stylesheet", "widget", "startup", "header", "footer"})
CODE_PASSAGES = frozenset({
    "StoryInit", "StoryCaption", "StoryMenu", "StoryBanner", "StorySubtitle", "StoryAuthor",
    "StoryInterface", "StoryShare", "PassageReady", "PassageDone", "PassageHeader",
    "PassageFooter",
})  # fmt: skip
_MACRO = re.compile(r"\((?:[a-z][\w-]*):|<</?[A-Za-z][\w-]*[^>]*>>")
_VARIABLE = re.compile(r"(?<![\w$])\$[A-Za-z_]\w*")
_LINK_ONLY = re.compile(r"^[\s|·•,.\-–—/]*$")

Warn = Callable[[int, str, str], None]  # (Twee line, code, message)


@dataclass(frozen=True, slots=True)
class TweeImport:
    source: str  # the Kinoroom story as YAML
    story: Story | None  # None when it has errors
    diagnostics: tuple[Diagnostic, ...]  # at Twee lines


def import_twee(
    text: str, file: str = "story.twee", media_exists: Callable[[str], bool] | None = None
) -> TweeImport:
    """Convert Twee 3 text (module docstring); never raises on bad input.

    Args:
        media_exists: when given, clips naming no media are ``missing-media`` warnings.
    """
    twee = parse_twee(text)
    notes: list[Diagnostic] = [
        Diagnostic(file, p.line, 1, "warning", "twine-metadata", p.message) for p in twee.problems
    ]

    def warn(line: int, code: str, message: str) -> None:
        severity: Severity = "error" if code == "unknown-target" else "warning"
        notes.append(Diagnostic(file, line, 1, severity, code, message))

    story_passages = []
    for passage in twee.passages:
        code_tags = CODE_TAGS.intersection(passage.tags)
        if passage.name in SPECIAL:
            continue
        if code_tags or passage.name in CODE_PASSAGES or passage.name.startswith("debug-"):
            why = f"tagged {', '.join(sorted(code_tags))}" if code_tags else "a special passage"
            warn(passage.line, "twine-special",
                 f"passage '{passage.name}' is story-format code ({why}): skipped")  # fmt: skip
            continue
        story_passages.append(passage)
    if not story_passages:
        notes.append(Diagnostic(file, 1, 1, "error", "schema", "no passages (:: Name) in the file"))
        return TweeImport("", None, tuple(notes))
    ids = _scene_ids(story_passages)
    start = _start(twee, story_passages, warn)
    scenes: dict[str, dict[str, object]] = {}
    link_lines: dict[str, list[int]] = {}
    for passage in story_passages:
        scenes[ids[passage.name]], link_lines[ids[passage.name]] = _scene(passage, ids, warn)
    data = {"kinoroom": 1, "title": twee.title or _title(file), "start": ids[start.name],
            "scenes": scenes}  # fmt: skip
    source = f"# Imported from {_base(file)} (Twee 3) by kinoroom story import\n" + _dump(data)
    parsed = read_story(source, file)
    placed = _place(source, twee, story_passages, ids, start, link_lines)
    reported = {d.line for d in notes if d.code == "unknown-target"}
    checked = [
        moved
        for d in check_story(parsed, media_exists)
        if not ((moved := _moved(d, placed)).code == "unknown-target" and moved.line in reported)
    ]
    diagnostics = sorted([*notes, *checked], key=lambda d: (d.line, d.col, d.code))
    errors = any(d.severity == "error" for d in diagnostics)
    return TweeImport(source, None if errors else parsed.story, tuple(diagnostics))


def _scene(
    passage: Passage, ids: dict[str, str], warn: Warn
) -> tuple[dict[str, object], list[int]]:
    """The passage's scene, and the Twee line of each way on (its options, or its next)."""
    tags = read_tags(passage.tags)  # clip:ID, duration:S, window:S, policy:NAME
    for problem in tags.problems:
        warn(passage.line, "twine-tag", f"passage '{passage.name}': {problem}")
    links = passage.links()
    for link in links:
        if link.setter is not None:
            warn(link.line, "twine-setter", f"the link's setter [{link.setter}] cannot run here")
    text = _words(passage, links, warn)
    shown = text or passage.name
    scene: dict[str, object] = {}
    if tags.clip is not None:
        scene["media"] = tags.clip
    scene["text"] = shown
    targets, lines_of = _options(links, ids, warn)
    if tags.clip is not None:
        scene["duration"] = tags.duration or DEFAULT_CLIP_S
    elif tags.duration is not None:
        scene["duration"] = tags.duration
    if not targets:
        scene["ending"] = True
    elif len(targets) == 1:
        scene["next"] = targets[0]["goto"]
    else:
        window = tags.window or DEFAULT_WINDOW_S
        length = float(scene.get("duration", reading_seconds(shown)))  # type: ignore[arg-type]
        if tags.clip is not None:
            length = max(length, window + VOTE_MARGIN_S)
            at = round(length - window - VOTE_MARGIN_S, 1)
        else:
            at, length = length, length + window + VOTE_MARGIN_S
        lines = [line for line in text.splitlines() if line.strip()]
        choice: dict[str, object] = {
            "at": at, "window": window,
            "prompt": _cut(lines[-1] if lines else passage.name, 200),
            "default": targets[0]["id"],
        }  # fmt: skip
        if tags.policy is not None:
            choice["policy"] = tags.policy
        choice["options"] = targets
        scene["duration"] = round(length, 1)
        scene["choice"] = choice
    return scene, lines_of


def _words(passage: Passage, links: list[Link], warn: Warn) -> str:
    """The passage's text as the room reads it: links and macros out (module docstring)."""
    text = passage.text
    for link in reversed(links):
        start, end = link.span
        text = text[:start] + "\0" + link.text + "\0" + text[end:]
    for macro in passage.macros():
        what = "not run" if re.match(r"(\(|<<)(set|put|move|unset):?", macro.source) else (
            "its markup is removed; any words inside it always show")  # fmt: skip
        warn(macro.line, "twine-macro", f"Kinoroom cannot run {macro.source}: {what}")
    text = _unwrap_macros(text)
    kept: list[str] = []
    for line in text.splitlines():
        if "\0" in line and _LINK_ONLY.match(re.sub(r"\0[^\0]*\0", "", line)):
            continue  # a line of links only: they are the vote's options
        kept.append(" ".join(line.replace("\0", "").split()))
    words = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    for number, line in enumerate(passage.text.splitlines()):
        for variable in dict.fromkeys(_VARIABLE.findall(_unwrap_macros(link_words(line)))):
            warn(passage.text_line + number, "twine-variable",
                 f"{variable} is a story-format variable: shown as written")  # fmt: skip
    return words


def _unwrap_macros(text: str) -> str:
    """Macro calls out; a Harlowe hook right after one keeps its words, without brackets."""
    out: list[str] = []
    i = 0
    while i < len(text):
        match = _MACRO.search(text, i)
        if match is None:
            out.append(text[i:])
            break
        out.append(text[i : match.start()])
        j = match.end()
        if match.group().startswith("("):
            depth = 1
            while j < len(text) and depth:
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                j += 1
            if j < len(text) and text[j] == "[":  # the hook: keep its words
                depth, k = 1, j + 1
                while k < len(text) and depth:
                    depth += {"[": 1, "]": -1}.get(text[k], 0)
                    k += 1
                out.append(_unwrap_macros(text[j + 1 : k - 1]))
                j = k
        i = j
    return "".join(out)


def _options(
    links: list[Link], ids: dict[str, str], warn: Warn
) -> tuple[list[dict[str, object]], list[int]]:
    options: list[dict[str, object]] = []
    lines: list[int] = []
    taken: set[str] = set()
    seen: set[tuple[str, str]] = set()
    for link in links:
        if (link.text, link.target) in seen:
            continue
        seen.add((link.text, link.target))
        option_id = _unique(_identifier(link.text.lower(), "option"), taken)
        taken.add(option_id)
        goto = ids.get(link.target)
        if goto is None:  # an error of the import's own, with the passage's name
            warn(link.line, "unknown-target", f"[[{link.text}->{link.target}]] leads to no "
                 f"passage named '{link.target}'")  # fmt: skip
            goto = _unique(_identifier(link.target, "missing"), set(ids.values()))
        options.append({"id": option_id, "label": _cut(" ".join(link.text.split()) or goto, 80),
                        "goto": goto})  # fmt: skip
        lines.append(link.line)
    return options, lines


def _scene_ids(passages: list[Passage]) -> dict[str, str]:
    ids: dict[str, str] = {}
    for passage in passages:
        ids[passage.name] = _unique(_identifier(passage.name, "passage"), set(ids.values()))
    return ids


def _identifier(name: str, fallback: str) -> str:
    ident = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_")[:60] or fallback
    return ident if re.match(r"[A-Za-z_]", ident) else f"p_{ident}"


def _unique(base: str, taken: set[str]) -> str:
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    return name


def _start(twee: TweeFile, passages: list[Passage], warn: Warn) -> Passage:
    names = {p.name: p for p in passages}
    if twee.start is not None and twee.start in names:
        return names[twee.start]
    if twee.start is not None:
        warn(twee.data_line or 1, "twine-start", f"StoryData's start '{twee.start}' is no passage")
    if "Start" in names:
        return names["Start"]
    first = passages[0].name
    warn(passages[0].line, "twine-start",
         f"no start passage (StoryData start, or one named Start): '{first}' opens")  # fmt: skip
    return passages[0]


def _place(
    source: str,
    twee: TweeFile,
    passages: list[Passage],
    ids: dict[str, str],
    start: Passage,
    link_lines: dict[str, list[int]],
) -> list[tuple[int, int]]:
    """(YAML line, Twee line) pairs, by YAML line: where each scene and option came from."""
    document = parse_document(source)
    pairs = [(1, 1), (document.at(("start",)).line, twee.data_line or start.line)]
    for passage in passages:
        scene = ids[passage.name]
        pairs.append((document.at(("scenes", scene), key=True).line, passage.line))
        lines = link_lines[scene]
        if len(lines) == 1:
            pairs.append((document.at(("scenes", scene, "next")).line, lines[0]))
        elif lines:
            pairs.append((document.at(("scenes", scene, "choice")).line, passage.line))
            pairs.extend(
                (document.at(("scenes", scene, "choice", "options", i)).line, line)
                for i, line in enumerate(lines)
            )
    return sorted(pairs)


def _moved(diagnostic: Diagnostic, placed: list[tuple[int, int]]) -> Diagnostic:
    twee_line = 1
    for yaml_line, line in placed:
        if yaml_line > diagnostic.line:
            break
        twee_line = line
    return Diagnostic(diagnostic.file, twee_line, 1, diagnostic.severity, diagnostic.code,
                      diagnostic.message)  # fmt: skip


class _Dumper(yaml.SafeDumper):
    """Multi-line text as YAML literal blocks, which a writer can edit as it reads."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _dump(data: dict[str, object]) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _base(file: str) -> str:
    return re.split(r"[\\/]", file)[-1]


def _title(file: str) -> str:
    stem = _base(file).split(".")[0]
    return stem.replace("_", " ").replace("-", " ").strip().capitalize() or "A Twine story"


__all__ = ["TweeImport", "import_twee"]
