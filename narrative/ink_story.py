"""A compiled ink story (``.ink.json``, as Inky and inklecate export it) as a Kinoroom story.

An ink story is a program, not a graph: Kinoroom screens it with the ink runtime
(`narrative.ink_plot`) instead of converting it, so counters, conditions, loops,
tunnels, threads and lists all keep working. What Kinoroom needs besides the program is
read from its global tags (`narrative.ink_tags`): title, reading pace, vote window,
colours.

Reading is strict about what the file is and lenient about what it says: text that is
not a compiled ink story, or that the runtime refuses, is an error; whether it plays
well (choices over five, dead ends, missing clips, runtime errors) is the validator's
bounded exploration (`narrative.ink_explore`). Inky and inklecate write a UTF-8
byte-order mark before the JSON; it is skipped.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from narrative.diagnostics import Diagnostic
from narrative.errors import StoryError
from narrative.ink_plot import InkPlot
from narrative.ink_runtime import InkLoadError, InkRuntime
from narrative.ink_tags import StorySettings, story_settings

BOM = "\ufeff"
UNTITLED = "An ink story"


def strip_bom(text: str) -> str:
    return text[1:] if text.startswith(BOM) else text


def looks_like_ink(text: str) -> bool:
    """Whether ``text`` is a compiled ink story: a JSON object with ``inkVersion`` and ``root``."""
    body = strip_bom(text).lstrip()
    if not body.startswith("{") or '"inkVersion"' not in body[:200]:
        return False
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return isinstance(data, dict) and "inkVersion" in data and "root" in data


@dataclass(frozen=True, slots=True)
class InkStory:
    """A loaded ink program and its settings; ``plot(seed)`` starts one screening's run."""

    compiled: str  # the JSON, byte-order mark removed
    settings: StorySettings
    canonical_digest: str

    @property
    def title(self) -> str:
        return self.settings.title or UNTITLED

    def digest(self) -> str:
        return self.canonical_digest

    def plot(self, seed: int = 0) -> InkPlot:
        return InkPlot(self, seed)


def read_ink(text: str, file: str = "<story>") -> InkStory:
    """The compiled ink story in ``text``.

    Raises:
        StoryError: ``ink-json`` (not a compiled ink story: not JSON, no ``inkVersion``,
            or the runtime refuses it), ``bad-tag`` (a global tag with a bad value).
    """
    body = strip_bom(text)
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise _error(file, "ink-json", f"not JSON: {exc}") from exc
    if not isinstance(data, dict) or "inkVersion" not in data or "root" not in data:
        raise _error(file, "ink-json", "not a compiled ink story (no inkVersion and root)")
    try:
        runtime = InkRuntime(body)
    except InkLoadError as exc:
        raise _error(file, "ink-json", f"the ink runtime cannot load it: {exc}") from exc
    settings = story_settings(runtime.global_tags())
    if settings.problems:
        where = "global tags"
        problems = settings.problems
        raise StoryError(
            file, [Diagnostic(file, 1, 1, "error", "bad-tag", p, where) for p in problems]
        )
    digest = hashlib.sha256(_canonical(data).encode()).hexdigest()[:16]
    return InkStory(body, settings, digest)


def paced(text: str, factor: float) -> str:
    """The compiled story with every length times ``factor`` (a ``# pace:`` global tag put
    first, so it wins over the story's own): the demo's quick cut of an ink story."""
    data = json.loads(strip_bom(text))
    pace = story_settings(InkRuntime(strip_bom(text)).global_tags()).pace * factor
    tag = f"pace: {pace:g}"
    first = data["root"][0]
    if int(data.get("inkVersion", 21)) >= 21:
        first[0:0] = ["#", f"^{tag}", "/#"]
    else:  # before ink 1.1, a tag was one {"#": text} object
        first.insert(0, {"#": tag})
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _error(file: str, code: str, message: str) -> StoryError:
    return StoryError(file, [Diagnostic(file, 1, 1, "error", code, message)])


__all__ = ["BOM", "InkStory", "looks_like_ink", "paced", "read_ink", "strip_bom"]
