"""A progress bar on stderr for long CLI work (ingest, the demo film), with no dependency.

On a terminal the bar redraws one line with ``\\r``; when stderr is a file or a pipe (CI
logs, ``make``), it prints a plain line every 25 % instead, so logs stay readable.
"""

from __future__ import annotations

import sys
from typing import TextIO

_WIDTH = 30


class ProgressBar:
    """One clip's progress: ``label [#####-----]  42%  12.6/30.0 s``.

    Args:
        label: what is being worked on (a media id).
        total: the amount that means done (seconds of film); 0 when unknown.
        stream: where to draw; stderr by default.
    """

    def __init__(self, label: str, total: float, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self._stream = stream if stream is not None else sys.stderr
        self._tty = self._stream.isatty()
        self._shown_quarter = -1
        self._last_drawn = -1.0

    def update(self, done: float) -> None:
        """Show that ``done`` (same unit as ``total``) is finished."""
        fraction = min(1.0, done / self.total) if self.total > 0 else 0.0
        if self._tty:
            if fraction - self._last_drawn < 0.005:
                return
            self._last_drawn = fraction
            filled = round(fraction * _WIDTH)
            bar = "#" * filled + "-" * (_WIDTH - filled)
            self._stream.write(
                f"\r{self.label} [{bar}] {fraction:4.0%}  {done:.1f}/{self.total:.1f} s"
            )
            self._stream.flush()
            return
        quarter = int(fraction * 4)
        if quarter > self._shown_quarter and quarter < 4:
            self._shown_quarter = quarter
            self._stream.write(f"{self.label}: {quarter * 25}%\n")

    def finish(self, note: str) -> None:
        """End the bar with a note (``done in 3.1 s``, ``skipped: unchanged``)."""
        prefix = "\r\033[K" if self._tty else ""
        self._stream.write(f"{prefix}{self.label}: {note}\n")
        self._stream.flush()


__all__ = ["ProgressBar"]
