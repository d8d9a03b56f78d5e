"""Argument types the ``kinoroom`` commands share: a file to read, counts, hours,
renditions and the media folder. Each raises what argparse reports as a usage error
(exit 2), or exits with ``error io`` for a file that cannot be read."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def read_file(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SystemExit(f"error io: cannot read {path}: {exc.strerror}") from exc


def count(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def hours(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of hours") from None
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def media_folder(given: Path | None) -> Path:
    if given is not None:
        return given
    from server.settings import Settings

    return Settings().resolved_media_dir()


def renditions(text: str) -> tuple[object, ...]:
    from mobile_bridge.media.errors import UnknownRendition
    from mobile_bridge.media.renditions import parse_renditions

    try:
        return parse_renditions(text)
    except UnknownRendition as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


__all__ = ["count", "hours", "media_folder", "read_file", "renditions"]
