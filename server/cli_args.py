"""The ``kinoroom`` parser and the argument types its commands share: a file to read,
counts, hours, renditions and the media folder. Each type raises what the parser
reports as ``error bad-argument`` (exit 2); a file that cannot be read exits with
``error io``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the command and the way to help:
    ``error bad-argument: kinoroom story simulate: argument --phones: must be at least 0,
    got -1 (kinoroom story simulate --help)`` and exit status 2, like every other error."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"error bad-argument: {self.prog}: {message} ({self.prog} --help)\n")
        raise SystemExit(2)


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


def media_folder(given: Path | None, *, write: bool = False, exist: bool = False) -> Path:
    """``--media``, else the settings' media folder.

    Args:
        write: the command writes there: create it, and fail now if it cannot be written.
        exist: the command tidies it: fail if it is not there (a typo would tidy nothing).

    Raises:
        SettingError: ``folder-unwritable`` or ``media-not-found``, naming the option or
            the variable the folder came from.
    """
    from server.preflight import SettingError, load_settings, writable_folder

    if given is not None:
        folder, name = given, "--media"
    else:
        settings = load_settings()
        folder = settings.resolved_media_dir()
        name = "KINOROOM_MEDIA_DIR" if settings.media_dir is not None else "KINOROOM_DATA_DIR"
    if exist and not folder.is_dir():
        raise SettingError("media-not-found", name, f"no such folder: {folder}", exit_status=1)
    if write:
        writable_folder(folder, name)
    return folder


def positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def web_url(text: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http:// or https:// URL")
    return text.rstrip("/")


def renditions(text: str) -> tuple[object, ...]:
    from mobile_bridge.media.errors import UnknownRendition
    from mobile_bridge.media.renditions import parse_renditions

    try:
        return parse_renditions(text)
    except UnknownRendition as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


__all__ = [
    "OneLineParser",
    "count",
    "hours",
    "media_folder",
    "positive",
    "read_file",
    "renditions",
    "web_url",
]
