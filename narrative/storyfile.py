"""Read a story file's text into a `Story`, keeping every problem with its position.

Reading stops at the first layer that fails: YAML syntax (one ``schema`` diagnostic at
the parser's position), duplicate keys and shape (``duplicate-key`` / ``schema`` at the
offending node). Graph and expression checks need a well-formed model and live in
`narrative.validate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import ValidationError

from narrative.diagnostics import Diagnostic
from narrative.story import Story
from narrative.yamlpos import Document, Path, Position, YamlSyntaxError, parse_document


@dataclass(slots=True)
class ParsedStory:
    """What reading produced: the model if the shape is right, and every diagnostic so far."""

    file: str
    story: Story | None
    document: Document | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def at(self, path: Path, *, key: bool = False) -> Position:
        return self.document.at(path, key=key) if self.document else Position(1, 1)

    def error(self, code: str, path: Path, message: str, *, key: bool = False) -> None:
        where = self.at(path, key=key)
        self.diagnostics.append(
            Diagnostic(self.file, where.line, where.col, "error", code, message)
        )

    def warning(self, code: str, path: Path, message: str, *, key: bool = False) -> None:
        where = self.at(path, key=key)
        self.diagnostics.append(
            Diagnostic(self.file, where.line, where.col, "warning", code, message)
        )


def read_story(text: str, file: str = "<story>") -> ParsedStory:
    """Parse and shape-check story text (YAML or JSON); never raises on bad input."""
    try:
        document = parse_document(text)
    except YamlSyntaxError as exc:
        where = exc.position
        parsed = ParsedStory(file, None, None)
        parsed.diagnostics.append(
            Diagnostic(file, where.line, where.col, "error", "schema", str(exc))
        )
        return parsed
    parsed = ParsedStory(file, None, document)
    for path, where, first in document.duplicates:
        parsed.diagnostics.append(
            Diagnostic(
                file,
                where.line,
                where.col,
                "error",
                "duplicate-key",
                f"{_dotted(path)} is given twice (first at line {first.line}); "
                "the first would be lost",
            )
        )
    if not isinstance(document.data, dict):
        parsed.error(
            "schema", (), "a story file is a mapping with kinoroom, title, start and scenes"
        )
        return parsed
    try:
        parsed.story = Story.model_validate(document.data)
    except ValidationError as exc:
        _report_schema(parsed, exc)
    if any(d.code == "duplicate-key" for d in parsed.diagnostics):
        parsed.story = None
    return parsed


def _report_schema(parsed: ParsedStory, exc: ValidationError) -> None:
    assert parsed.document is not None
    seen: set[Path] = set()
    for error in exc.errors(include_url=False):
        path = _resolve(parsed.document, error["loc"])
        is_key = error["type"] == "extra_forbidden" or "[key]" in error["loc"]
        if path in seen:
            continue  # one message per node: a failed union reports each branch
        seen.add(path)
        message = error["msg"]
        if error["type"] == "missing":
            message = f"'{error['loc'][-1]}' is required"
        elif error["type"] == "extra_forbidden":
            message = f"unknown field '{error['loc'][-1]}'"
        subject = _dotted(path) or "story"
        parsed.error("schema", path, f"{subject}: {message}", key=is_key)


def _resolve(document: Document, loc: tuple[str | int, ...]) -> Path:
    """The deepest document path along a pydantic ``loc`` (union branch tags fall off)."""
    path: Path = ()
    for part in loc:
        candidate = (*path, part if isinstance(part, int) else str(part))
        if candidate not in document.values:
            candidate = (*path, str(part))  # a mapping key YAML read as a number (`1:`)
            if candidate not in document.values:
                break
        path = candidate
    return path


def _dotted(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


__all__ = ["ParsedStory", "read_story"]
