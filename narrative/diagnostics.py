"""A diagnostic: one problem in one file at one position, with a stable code.

A compiled ink story has no lines to point at: its diagnostics carry the ink ``path``
(``hub.0.c-5``, a knot, stitch and position) instead, and print it in place of the line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]  # info: not a problem (an ink story's coverage)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    file: str
    line: int  # 1-based
    col: int  # 1-based
    severity: Severity
    code: str
    message: str
    path: str | None = None  # an ink path, for a file without lines (line and col are 1)

    def format(self) -> str:
        """The compiler-style line editors and CI annotate: ``FILE:LINE:COL: error CODE: msg``
        (``FILE:PATH: …`` for an ink story)."""
        where = self.path if self.path is not None else f"{self.line}:{self.col}"
        return f"{self.file}:{where}: {self.severity} {self.code}: {self.message}"

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
        }
        if self.path is not None:  # an ink story's
            data["path"] = self.path
        return data


__all__ = ["Diagnostic", "Severity"]
