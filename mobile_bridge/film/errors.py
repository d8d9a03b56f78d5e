"""Errors of the film track; each has a stable kebab-case ``code``::

    FilmError               base (ValueError: a caller passed something the film refuses)
    ├── TimelineError       the schedule refuses a scene; ``code``:
    │                         starts-in-past  a scene before now or before the origin
    │                         no-clip         an empty clip name
    └── FilmClosed          film-closed: `Film.close` was called; nothing more plays

The schedule raises `TimelineError`; `mobile_bridge.film.Film` raises `FilmClosed`.
"""

from __future__ import annotations


class FilmError(ValueError):
    """Base class; ``code`` is what a caller matches on."""

    code = "film-error"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class TimelineError(FilmError):
    """A scene the schedule cannot take; ``starts_at`` is the room-clock time asked for."""

    def __init__(self, code: str, message: str, *, starts_at: float) -> None:
        self.code = code
        self.starts_at = starts_at
        super().__init__(f"{message} (starts_at={starts_at:.3f})")


class FilmClosed(FilmError):
    """The film was closed; it plays nothing more and takes no new scene or subscriber."""

    code = "film-closed"

    def __init__(self) -> None:
        super().__init__("the film is closed")


__all__ = ["FilmClosed", "FilmError", "TimelineError"]
