"""The ink runtime, typed: the one module that talks to `bink` (Blade Ink).

Kinoroom never re-implements ink: a compiled story (``.ink.json``) runs in Blade Ink, a
Rust runtime compatible with inkle's, through its Python bindings. bink computes only:
no file, socket or clock; its random generator is seeded from the room by writing
``storySeed`` into the runtime's own state (`InkRuntime.seed`).

A **turn** is what the runtime says between two choice points: its lines (text and
tags), then its choices, or its end. The runtime's state JSON is saved at two moments:

- at the *start* of a turn (right after a choice is made, before its first line):
  loading it and running again gives the very same turn, so this is what snapshots keep;
- at the *choice point*: loading that is ink's "save game", exact except for one quirk
  of the runtime's save format: an invisible default choice (ink's fallback, ``* ->``)
  loses its flag and comes back as a visible choice with no text, moving the indices.
  `Turn.reloadable` says whether the choice point is free of it; when it is not, a
  branch is taken by running the turn again from its start.

Runtime failures never escape as bink's exceptions: they come back in `Turn` with the
ink path where they happened. So do the two ways an ink story can run forever without a
choice, which would otherwise hang a room: a loop that prints nothing (a line not reached
within `LINE_BUDGET_MS`, through the runtime's own time-boxed continue) and one that
prints for ever (more than `MAX_LINES` lines before a choice point).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import bink.story as _bink

from narrative.expressions import Value

Outcome = Literal["choices", "end", "dead-end", "error"]
_RAN_OUT = "ran out of content"
# Both far beyond any story's real turn (a line is microseconds of work, a long passage a
# few hundred lines), so that a machine's load never makes a sound story fail here.
LINE_BUDGET_MS = 5000.0
MAX_LINES = 1000


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ChoiceText:
    text: str
    tags: tuple[str, ...]
    source: str  # the ink path the choice was written at (``hub.0.c-1``)


@dataclass(frozen=True, slots=True)
class Turn:
    """What the runtime said from a turn's start to its choice point or its end."""

    lines: tuple[Line, ...]
    choices: tuple[ChoiceText, ...]
    outcome: Outcome
    errors: tuple[str, ...]  # runtime errors, each with its ink path
    warnings: tuple[str, ...]
    reloadable: bool  # the choice point's state reloads exactly (module docstring)
    path: str  # the last ink path the runtime stood at (where an error happened)
    paths: tuple[str, ...] = ()  # every path it stood at before a line (what it visited)


class InkLoadError(ValueError):
    """The text is not a compiled ink story the runtime can load."""


class InkRuntime:
    """One Blade Ink story instance; states are JSON strings of the runtime's own format.

    Args:
        line_budget_ms: the longest the runtime may work towards one line (module docstring).

    Raises:
        InkLoadError: ``compiled`` is not a compiled story bink loads.
    """

    def __init__(self, compiled: str, *, line_budget_ms: float = LINE_BUDGET_MS) -> None:
        self._budget_ms = line_budget_ms
        try:
            self._story = _bink.Story(compiled)
        except RuntimeError as exc:
            raise InkLoadError(str(exc)) from exc
        self._messages: list[tuple[str, bool]] = []
        self._story.set_error_handler(self._on_message)
        self._globals = _global_names(compiled)

    def _on_message(self, message: str, is_error: bool) -> None:
        self._messages.append((message, is_error))

    def state(self) -> str:
        return str(self._story.save_state())

    def load(self, state: str) -> None:
        self._story.load_state(state)

    def seed(self, seed: int) -> None:
        """Seed ink's chance (RANDOM, shuffles): ``storySeed`` in the runtime's state."""
        data = json.loads(self.state())
        data["storySeed"] = seed & 0x7FFFFFFF
        data["previousRandom"] = 0
        self.load(json.dumps(data))

    def global_tags(self) -> tuple[str, ...]:
        return tuple(self._story.get_global_tags())

    def run(self, *, first: bool = False) -> Turn:
        """Continue from the current state to the next choice point or the end.

        Args:
            first: this is the story's first turn: ink hands the global tags over with
                its first line, and they are taken off it (they are the story's).
        """
        self._messages.clear()
        lines: list[Line] = []
        path = ""
        paths: list[str] = []
        crashed: str | None = None
        try:
            while self._story.can_continue():
                path = self._story.get_current_path() or path
                paths.append(path)
                if len(lines) >= MAX_LINES:
                    crashed = (
                        f"more than {MAX_LINES} lines without a choice after {path}: "
                        "a loop that never reaches a choice or an end?"
                    )
                    break
                if not self._story.continue_async(self._budget_ms):
                    crashed = (
                        f"no line within {self._budget_ms / 1000:g} s after {path}: a loop "
                        "that prints nothing?"
                    )
                    break
                text = self._story.get_current_text()
                tags = tuple(self._story.get_current_tags())
                if first and not lines:
                    tags = _after(tags, self.global_tags())
                lines.append(Line(text, tags))
        except RuntimeError as exc:  # a panic in the runtime (division by zero, …)
            path = self._story.get_current_path() or path
            crashed = f"the ink runtime failed at {path or 'the start'}: {exc}"
        errors = [m for m, is_error in self._messages if is_error and _RAN_OUT not in m]
        warnings = tuple(m for m, is_error in self._messages if not is_error)
        ran_out = any(_RAN_OUT in m for m, _ in self._messages)
        if crashed is not None:
            errors.append(crashed)
        choices: tuple[ChoiceText, ...] = ()
        reloadable = True
        if crashed is None:
            visible = self._story.get_current_choices()
            pending = self._pending_choices()
            reloadable = len(pending) == len(visible)
            # A fallback choice has no text: without it, the rest line up with the visible.
            shown = pending if reloadable else [c for c in pending if c.get("text")]
            sources = [str(c.get("originalChoicePath", "")) for c in shown]
            if len(sources) != len(visible):
                sources = [path] * len(visible)
            choices = tuple(
                ChoiceText(str(visible[i]), tuple(visible.get_tags(i)), sources[i] or path)
                for i in range(len(visible))
            )
        outcome: Outcome
        if errors:
            outcome = "error"
        elif choices:
            outcome = "choices"
        else:
            outcome = "dead-end" if ran_out else "end"
        return Turn(
            tuple(lines), choices, outcome, tuple(errors), warnings, reloadable, path,
            tuple(dict.fromkeys(paths)),
        )  # fmt: skip

    def choose(self, index: int) -> None:
        self._story.choose_choice_index(index)

    def variables(self) -> dict[str, Value]:
        """Every global variable the story declares, as plain values (lists as their
        item names, a divert target as its path)."""
        out: dict[str, Value] = {}
        for name in self._globals:
            try:
                value = self._story.get_variable(name)
            except (RuntimeError, TypeError):  # a divert target or pointer: no Python form
                continue
            out[name] = _plain(value)
        return out

    def visited(self) -> set[str]:
        """Paths of the containers whose visits the runtime counted so far."""
        return set(json.loads(self.state()).get("visitCounts", {}))

    def _pending_choices(self) -> list[Mapping[str, Any]]:
        """Every choice of the choice point, invisible defaults too (from the state JSON)."""
        data = json.loads(self.state())
        flow = data.get("flows", {}).get(data.get("currentFlowName", "DEFAULT_FLOW"), {})
        choices = flow.get("currentChoices", [])
        return [c for c in choices if isinstance(c, Mapping)]


def _after(tags: tuple[str, ...], prefix: tuple[str, ...]) -> tuple[str, ...]:
    return tags[len(prefix) :] if prefix and tags[: len(prefix)] == prefix else tags


def _plain(value: object) -> Value:
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return round(value, 6)  # bink hands floats over as 32-bit
    items = getattr(value, "items", None)
    if isinstance(items, Sequence):
        names = sorted(items, key=lambda item: (item[1], item[0]))
        return ", ".join(str(name).rsplit(".", 1)[-1] for name, _ in names)
    return str(value)


def _global_names(compiled: str) -> tuple[str, ...]:
    """The story's global variables, from the compiled JSON's ``global decl`` container."""
    try:
        root = json.loads(compiled).get("root", [])
    except (ValueError, AttributeError):
        return ()
    names: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "global decl" in node:
                for item in node["global decl"] or []:
                    if isinstance(item, dict) and isinstance(item.get("VAR="), str):
                        names.append(item["VAR="])
                return
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(root)
    return tuple(dict.fromkeys(names))


__all__ = ["ChoiceText", "InkLoadError", "InkRuntime", "Line", "Outcome", "Turn"]
