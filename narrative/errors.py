"""Errors raised by the narrative core.

Every error carries a stable kebab-case ``code`` (documented in the README) and the
place it is about, and builds its message from them::

    NarrativeError                 base of everything narrative/ raises
    ├── StoryError                 a story file cannot be used (carries its diagnostics)
    ├── ExpressionError            an expression does not parse, type-check or evaluate
    │   └── UndefinedVariable      it names a variable the story does not declare
    ├── PolicyError                unknown consensus policy or bad parameters
    ├── BallotFileError            a tally audit file is malformed
    └── SnapshotError              a screening snapshot cannot be restored

Expected refusals during a screening (a late vote, a stale seq) are not exceptions:
they are commands (`VoteRejected`, `HostRejected`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from narrative.diagnostics import Diagnostic


class NarrativeError(Exception):
    """Base class; ``code`` is the stable identifier a client or a script can match on."""

    code: str = "narrative-error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        if code is not None:
            self.code = code
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class StoryError(NarrativeError):
    """A story file has errors; ``diagnostics`` lists every one with its position."""

    code = "schema"

    def __init__(self, file: str, diagnostics: Sequence[Diagnostic]) -> None:
        self.file = file
        self.diagnostics = tuple(diagnostics)
        errors = [d for d in self.diagnostics if d.severity == "error"] or self.diagnostics
        code = errors[0].code if errors else "schema"
        lines = "; ".join(d.format() for d in self.diagnostics if d.severity == "error")
        super().__init__(lines or f"{file}: invalid story", code=code)


class ExpressionError(NarrativeError):
    """An expression is malformed or ill-typed; ``col`` is 0-based within ``source``."""

    code = "bad-expression"

    def __init__(self, reason: str, *, source: str, col: int = 0, code: str | None = None) -> None:
        self.reason = reason
        self.source = source
        self.col = col
        super().__init__(f"{reason} in {source!r} at column {col + 1}", code=code)


class UndefinedVariable(ExpressionError):
    code = "undefined-variable"

    def __init__(self, name: str, *, source: str, col: int = 0) -> None:
        self.name = name
        super().__init__(f"variable {name!r} is not declared", source=source, col=col)


class PolicyError(NarrativeError, ValueError):
    """Unknown consensus policy (``unknown-policy``) or bad parameters (``bad-policy-params``)."""

    code = "unknown-policy"


class BallotFileError(NarrativeError, ValueError):
    """A tally audit file is malformed; the message names the offending entry."""

    code = "schema"


class SnapshotError(NarrativeError):
    """A snapshot is malformed (``bad-snapshot``) or of another story (``story-mismatch``)."""

    code = "bad-snapshot"


__all__ = [
    "BallotFileError",
    "ExpressionError",
    "NarrativeError",
    "PolicyError",
    "SnapshotError",
    "StoryError",
    "UndefinedVariable",
]
