"""A diagnostic: one problem in one file at one position, with a stable code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    file: str
    line: int  # 1-based
    col: int  # 1-based
    severity: Severity
    code: str
    message: str

    def format(self) -> str:
        """The compiler-style line editors and CI annotate: ``FILE:LINE:COL: error CODE: msg``."""
        return f"{self.file}:{self.line}:{self.col}: {self.severity} {self.code}: {self.message}"

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
        }


__all__ = ["Diagnostic", "Severity"]
