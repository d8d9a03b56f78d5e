"""Reading Twee 3, the text form of a Twine story (the Twine 3 specification).

A Twee file is a list of passages, each opened by a header line::

    :: Passage name [tag1 tag2] {"position": "600,400"}

The name runs to the first unescaped ``[`` (tags) or ``{`` (metadata); in names and tags
``\\[``, ``\\]``, ``\\{``, ``\\}`` and ``\\\\`` stand for the character itself. The passage's
text runs to the next header; text before the first header is ignored. Two passages
are special: ``StoryTitle`` (its text is the title) and ``StoryData`` (a JSON object
whose ``start`` names the first passage; otherwise the passage named ``Start`` is).

Links, as the Twine editor reads them (a ``][`` setter cut off first, then the rightmost
``->``, the leftmost ``<-``, the rightmost ``|``)::

    [[Go north]]            text and target "Go north"
    [[Go north|North]]      text "Go north", target "North"
    [[Go north->North]]     the same
    [[North<-Go north]]     the same

A SugarCube setter (``[[text|target][$x to 1]]``) is kept apart: it cannot run here.
Story-format macros (Harlowe ``(if:)``, ``(set:)``…, SugarCube ``<<if>>``, ``<<set>>``…)
are found with their line so the importer can warn about each. Pure: text in, values out.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

SPECIAL = frozenset({"StoryTitle", "StoryData"})
_HEADER = re.compile(r"^::(?!:)")
LINK = re.compile(r"\[\[((?:[^\]]|\](?!\]))+)\]\]")
# Macros of the story formats Kinoroom cannot run: Harlowe's (name: …) and SugarCube's
# <<name …>> / <</name>>.
_HARLOWE = re.compile(r"\((?:[a-z][\w-]*):")
_SUGARCUBE = re.compile(r"<</?[A-Za-z][\w-]*[^>]*>>")


@dataclass(frozen=True, slots=True)
class Link:
    text: str
    target: str
    line: int  # 1-based, in the file
    setter: str | None = None  # a SugarCube setter component, which cannot run here
    span: tuple[int, int] = (0, 0)  # where in the passage text (for removing it)


@dataclass(frozen=True, slots=True)
class Macro:
    source: str
    line: int


@dataclass(frozen=True, slots=True)
class Passage:
    name: str
    tags: tuple[str, ...]
    metadata: dict[str, object]
    text: str
    line: int  # the header's line, 1-based
    text_line: int  # the line the text starts on

    def links(self) -> list[Link]:
        found = []
        for match in LINK.finditer(self.text):
            inner, _, setter = match.group(1).partition("][")
            text, target = split_link(inner)
            line = self.text_line + self.text.count("\n", 0, match.start())
            found.append(Link(text, target, line, setter or None, match.span()))
        return found

    def macros(self) -> list[Macro]:
        found = []
        for pattern in (_HARLOWE, _SUGARCUBE):
            for match in pattern.finditer(self.text):
                line = self.text_line + self.text.count("\n", 0, match.start())
                found.append(Macro(_whole_macro(self.text, match), line))
        return sorted(found, key=lambda m: m.line)


@dataclass(frozen=True, slots=True)
class TweeProblem:
    line: int
    message: str


@dataclass(frozen=True, slots=True)
class TweeFile:
    passages: tuple[Passage, ...]
    title: str | None
    start: str | None  # StoryData's start, if it has one
    data_line: int | None  # StoryData's header line
    problems: tuple[TweeProblem, ...]

    def passage(self, name: str) -> Passage | None:
        return next((p for p in self.passages if p.name == name), None)


def link_words(line: str) -> str:
    """``line`` with each link reduced to the words it shows."""
    return LINK.sub(lambda m: split_link(m.group(1).partition("][")[0])[0], line)


def split_link(inner: str) -> tuple[str, str]:
    """A link's (text, target), the Twine editor's way: the rightmost ``->``, else the
    leftmost ``<-``, else the rightmost ``|``; a plain link's text is its target."""
    if "->" in inner:
        text, _, target = inner.rpartition("->")
        return text, target
    if "<-" in inner:
        target, _, text = inner.partition("<-")
        return text, target
    if "|" in inner:
        text, _, target = inner.rpartition("|")
        return text, target
    return inner, inner


def looks_like_twee(text: str) -> bool:
    """Whether ``text`` is Twee: it has passage headers and is not a Kinoroom story."""
    has_header = any(_HEADER.match(line) for line in text.splitlines())
    return has_header and re.search(r"^kinoroom\s*:", text, re.MULTILINE) is None


def parse_twee(text: str) -> TweeFile:
    """Every passage of a Twee 3 file; never raises (problems come back with their line)."""
    lines = text.lstrip("\ufeff").splitlines()
    heads = [i for i, line in enumerate(lines) if _HEADER.match(line)]
    problems: list[TweeProblem] = []
    passages: list[Passage] = []
    for n, i in enumerate(heads):
        end = heads[n + 1] if n + 1 < len(heads) else len(lines)
        name, tags, metadata, problem = _header(lines[i][2:])
        if problem:
            problems.append(TweeProblem(i + 1, problem))
        body = "\n".join(lines[i + 1 : end]).rstrip()
        passages.append(Passage(name, tags, metadata, body.strip("\n"), i + 1, i + 2 + _lead(body)))
    title_passage = next((p for p in passages if p.name == "StoryTitle"), None)
    data_passage = next((p for p in passages if p.name == "StoryData"), None)
    start = None
    if data_passage is not None:
        try:
            data = json.loads(data_passage.text or "{}")
        except ValueError as exc:
            problems.append(TweeProblem(data_passage.line, f"StoryData is not JSON: {exc}"))
            data = {}
        if isinstance(data, dict) and isinstance(data.get("start"), str):
            start = data["start"]
    title = " ".join(title_passage.text.split()) if title_passage is not None else None
    return TweeFile(
        tuple(passages), title or None, start,
        data_passage.line if data_passage is not None else None, tuple(problems),
    )  # fmt: skip


def _lead(body: str) -> int:
    """Blank lines between a header and its text (the text's first line is after them)."""
    return len(body) - len(body.lstrip("\n"))


def _header(rest: str) -> tuple[str, tuple[str, ...], dict[str, object], str | None]:
    name, i = _unescape_until(rest, 0, "[{")
    tags: tuple[str, ...] = ()
    metadata: dict[str, object] = {}
    problem = None
    rest_at = rest[i:].lstrip()
    if rest_at.startswith("["):
        inner, j = _unescape_until(rest_at, 1, "]")
        tags = tuple(inner.split())
        rest_at = rest_at[j + 1 :].lstrip()
    if rest_at.startswith("{"):
        try:
            value = json.loads(rest_at)
            metadata = value if isinstance(value, dict) else {}
        except ValueError:
            problem = f"passage '{name.strip()}': its metadata is not JSON (ignored)"
    return name.strip(), tags, metadata, problem


def _unescape_until(text: str, start: int, stops: str) -> tuple[str, int]:
    out: list[str] = []
    i = start
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if c in stops:
            break
        out.append(c)
        i += 1
    return "".join(out), i


def _whole_macro(text: str, match: re.Match[str]) -> str:
    """The macro as written: SugarCube's is the match; Harlowe's runs to its closing
    parenthesis (nested parentheses counted), cut at 80 characters."""
    source = match.group()
    if source.startswith("("):
        depth, i = 0, match.start()
        while i < len(text):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
            if depth == 0:
                break
        source = text[match.start() : i]
    return source if len(source) <= 80 else source[:79] + "…"


__all__ = [
    "LINK",
    "SPECIAL",
    "Link",
    "Macro",
    "Passage",
    "TweeFile",
    "TweeProblem",
    "link_words",
    "looks_like_twee",
    "parse_twee",
    "split_link",
]
