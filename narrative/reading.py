"""Text scenes: how long words stay up, and the look they are shown in.

A text scene puts words on the shared screen and on every phone instead of a clip (a
Twine passage, the lines of an ink story between two choices), so a story needs no
footage at all. It lasts as long as the room needs to read it: its words at the story's
reading pace (words per minute), never less than `MIN_TEXT_S`, unless the writer gave a
duration. Pure: the pages do the drawing, from the colours chosen here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

# A group reads aloud-ish: slower than one silent reader (~230 wpm), and a shared screen
# is read from the back of a room. 180 leaves the slowest reader time to finish.
DEFAULT_WPM = 180.0
# Even a single word stays long enough to be noticed, read, and looked away from.
MIN_TEXT_S = 4.0
DEFAULT_BACKGROUND = "#12161f"
DEFAULT_COLOUR = "#f4ecd8"
_WORD = re.compile(r"\S+")


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def reading_seconds(text: str, words_per_minute: float = DEFAULT_WPM) -> float:
    """Seconds ``text`` stays up: its words at ``words_per_minute``, at least `MIN_TEXT_S`.

    Rounded up to a tenth of a second, so a story file shows short, stable numbers.

    Raises:
        ValueError: a pace that is not a positive number.
    """
    if not words_per_minute > 0 or not math.isfinite(words_per_minute):
        raise ValueError(f"a reading pace is a positive number of words, not {words_per_minute}")
    seconds = 60.0 * word_count(text) / words_per_minute
    return max(MIN_TEXT_S, math.ceil(seconds * 10 - 1e-9) / 10)


@dataclass(frozen=True, slots=True)
class TextLook:
    """Colours a text scene is drawn in: the story's own, else its style's palette."""

    background: str
    colour: str


DEFAULT_LOOK = TextLook(DEFAULT_BACKGROUND, DEFAULT_COLOUR)


def text_look(background: str | None, colour: str | None, palette: Sequence[str] = ()) -> TextLook:
    """The look of a story's text scenes: explicit colours win, then the style's palette
    (its first colour as the background, its second for the words), then the defaults."""
    return TextLook(
        background or (palette[0] if palette else DEFAULT_BACKGROUND),
        colour or (palette[1] if len(palette) > 1 else DEFAULT_COLOUR),
    )


__all__ = [
    "DEFAULT_LOOK",
    "DEFAULT_WPM",
    "MIN_TEXT_S",
    "TextLook",
    "reading_seconds",
    "text_look",
    "word_count",
]
