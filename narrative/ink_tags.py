"""The ink tags Kinoroom reads: footage, timing and voting, written in the ink itself.

An ink tag is ``# key: value`` (or a bare ``# key``) after a line, a choice or at the
top of a knot. Tags Kinoroom does not know are left alone (Inky's own ``# IMAGE:``, a
writer's notes); a known tag with a bad value is a problem, reported by the validator
(``bad-tag``) and, at screening time, as a `StoryFault`, never silently dropped.

======================  ==========================================================
on a line (or a knot)   ``clip: MEDIA_ID`` plays that clip (for ``duration`` seconds,
                        10 when none is given); ``duration: S`` sets the scene's length
on a choice, or on the  ``window: S`` the vote's window; ``policy: NAME`` its consensus
line before choices     policy; ``prompt: TEXT`` its question; ``default`` (on one
                        choice) the director's cut when nobody votes
at the top of the story ``title: TEXT``; ``wpm: N`` reading pace of text scenes;
(global tags)           ``window: S`` every vote's window; ``background: rrggbb``,
                        ``colour: rrggbb`` (hex digits: ink starts a new tag at ``#``);
                        ``pace: F`` every length times F (a quick cut for rehearsals)
======================  ==========================================================
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from narrative.policies import POLICY_NAMES
from narrative.reading import DEFAULT_WPM

DEFAULT_WINDOW_S = 15.0
DEFAULT_CLIP_S = 10.0
_COLOUR = re.compile(r"^#?[0-9A-Fa-f]{6}$")


def split_tag(tag: str) -> tuple[str, str]:
    """``"clip: forest/dawn"`` → ``("clip", "forest/dawn")``; a bare tag has value ``""``."""
    key, _, value = tag.partition(":")
    return key.strip().lower(), value.strip()


def _seconds(key: str, value: str, problems: list[str], *, low: float = 0.0) -> float | None:
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= low:
        problems.append(f"# {key}: {value!r} is not a number of seconds above {low:g}")
        return None
    return seconds


@dataclass(frozen=True, slots=True)
class Tags:
    """What the tags of one line or choice say (None: not said)."""

    clip: str | None = None
    duration: float | None = None
    window: float | None = None
    policy: str | None = None
    prompt: str | None = None
    default: bool = False
    problems: tuple[str, ...] = ()


def read_tags(tags: Iterable[str]) -> Tags:
    """The Kinoroom meaning of a line's or a choice's tags."""
    found: dict[str, object] = {}
    problems: list[str] = []
    for tag in tags:
        key, value = split_tag(tag)
        if key == "clip":
            if value:
                found["clip"] = value
            else:
                problems.append("# clip: names no media")
        elif key in ("duration", "window"):
            found[key] = _seconds(key, value, problems)
        elif key == "policy":
            if value in POLICY_NAMES:
                found["policy"] = value
            else:
                names = ", ".join(POLICY_NAMES)
                problems.append(f"# policy: unknown policy {value!r} (one of {names})")
        elif key == "prompt" and value:
            found["prompt"] = value[:200]
        elif key == "default":
            found["default"] = True
    return Tags(
        clip=_str(found.get("clip")),
        duration=_float(found.get("duration")),
        window=_float(found.get("window")),
        policy=_str(found.get("policy")),
        prompt=_str(found.get("prompt")),
        default=bool(found.get("default", False)),
        problems=tuple(problems),
    )


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _float(value: object) -> float | None:
    return value if isinstance(value, float) else None


@dataclass(frozen=True, slots=True)
class StorySettings:
    """What an ink story's global tags set (defaults otherwise)."""

    title: str | None = None
    words_per_minute: float = DEFAULT_WPM
    window_s: float = DEFAULT_WINDOW_S
    pace: float = 1.0
    background: str | None = None
    colour: str | None = None
    problems: tuple[str, ...] = field(default=())


def story_settings(tags: Iterable[str]) -> StorySettings:
    """Read an ink story's global tags (module docstring); the first of a repeated tag
    counts (so a tag put in front, as the demo's quick cut does, wins)."""
    problems: list[str] = []
    values: dict[str, object] = {}
    seen: set[str] = set()
    for tag in tags:
        key, value = split_tag(tag)
        key = "colour" if key == "color" else key
        if key in seen:
            continue
        seen.add(key)
        if key == "title" and value:
            values["title"] = value[:200]
        elif key == "wpm":
            wpm = _seconds(key, value, problems, low=0)
            if wpm is not None and not 60 <= wpm <= 1000:
                problems.append(f"# wpm: {value} is outside 60 … 1000 words per minute")
            elif wpm is not None:
                values["words_per_minute"] = wpm
        elif key in ("window", "pace"):
            seconds = _seconds(key, value, problems)
            if seconds is not None:
                values["window_s" if key == "window" else "pace"] = seconds
        elif key in ("background", "colour"):
            if _COLOUR.match(value):
                values[key] = "#" + value.lstrip("#").lower()
            else:  # `# colour: #f3e3b5` is two tags to ink: "colour:" and "f3e3b5"
                problems.append(
                    f"# {key}: {value!r} is not a colour: write its six hex digits without "
                    f"the # (ink starts a new tag at every #): # {key}: f3e3b5"
                )
    return StorySettings(**values, problems=tuple(problems))  # type: ignore[arg-type]


__all__ = [
    "DEFAULT_CLIP_S",
    "DEFAULT_WINDOW_S",
    "StorySettings",
    "Tags",
    "read_tags",
    "split_tag",
    "story_settings",
]
