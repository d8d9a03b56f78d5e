"""The ink compiler the tests use: inkjs's, installed by `make ink-compiler` into .inkjs/."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMPILER = ROOT / ".inkjs" / "package" / "bin" / "inkjs-compiler.js"
MISSING = "the ink compiler is not installed (make ink-compiler, which needs npm)"


def available() -> bool:
    return COMPILER.exists() and shutil.which("node") is not None


def compile_file(source: Path, out: Path) -> str:
    """Compile ``source`` to ``out``; returns the compiled text (byte-order mark included).

    Raises:
        subprocess.CalledProcessError: the compiler refused the source.
    """
    subprocess.run(
        ["node", str(COMPILER), "-o", str(out), str(source)],
        check=True, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return out.read_text(encoding="utf-8")


def compile_ink(folder: Path, source: str) -> str | None:
    """Compile ink ``source`` in ``folder``; None when the compiler is not installed."""
    if not available():
        return None
    path = folder / "story.ink"
    path.write_text(source, encoding="utf-8")
    return compile_file(path, folder / "story.ink.json")
