"""The film's schedule on the room clock and its one continuous RTP timestamp line (pure).

Theory of operation
-------------------
A screening is a sequence of **scenes**: a clip and the room-clock time it starts at. A
packet of a scene is **due** at ``scene.starts_at + packet.pts_s`` and a scene plays
until the next scene starts (its **cut**) or its clip runs out, whichever comes first.

The room decides late: the next scene is known only when the vote closes, shortly before
the boundary. `schedule` therefore replaces every scene that has not started yet (the
one after a vote, or a variant swapped for another variant of the same slot) and never
touches what has already played: a new scene must start at or after ``now``, and a scene
that started before ``now`` keeps playing until the new one starts.

Every receiver sees **one timestamp line**: RTP timestamps are room-clock time since the
film's origin (the first scene's start), in the codec's clock (90 kHz video, 48 kHz
Opus): a packet's timestamp is its due time, so a clip boundary placed exactly at the
end of the previous clip continues the line with no gap and no repeat, and two scenes
cannot overlap on it: packets due at or after the cut are not played. The line therefore
only goes up, across any number of switches, as long as nothing is played before it is
due (the reader's pacing) — `RtpLine` checks it anyway.

Candidates: when a vote opens the room names the clips that may come next; the reader
pre-reads their first GOP (`Timeline.candidates`) so the switch has no gap even though
the choice is made at the last moment. Variants are other clips for the same slot.

Nothing here reads a clock: every time is an argument, room-clock seconds.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field

from mobile_bridge.film.errors import TimelineError

VIDEO_CLOCK_RATE = 90_000
AUDIO_CLOCK_RATE = 48_000
CUT_TOLERANCE_S = 1e-6  # under one tick of either clock (11 µs, 21 µs): float noise only


@dataclass(frozen=True, slots=True, order=True)
class Scene:
    """A clip played from ``starts_at`` (room clock); ``seq`` tells reschedules apart.

    ``clip`` None: nothing plays from ``starts_at`` until the next scene (a text scene,
    which the pages draw themselves): the clip before it is cut there all the same.
    """

    starts_at: float
    seq: int
    clip: str | None = field(compare=False)


class Timeline:
    """Which clip plays when, and where each packet lands on the RTP line.

    Args:
        origin: room-clock time of RTP timestamp 0; the first scheduled start if None.
    """

    def __init__(self, origin: float | None = None) -> None:
        self.origin = origin
        self._scenes: list[Scene] = []  # live scenes, by starts_at
        self._seq = 0
        self.candidates: frozenset[str] = frozenset()

    @property
    def scenes(self) -> tuple[Scene, ...]:
        return tuple(self._scenes)

    def schedule(self, clip: str | None, starts_at: float, now: float) -> Scene:
        """From ``starts_at`` on, play ``clip`` (None: no clip): scenes that had not
        started are dropped.

        Raises:
            TimelineError: ``starts-in-past`` when ``starts_at < now`` (what has already
                played cannot be replaced), ``no-clip`` for an empty clip name.
        """
        if clip == "":
            raise TimelineError("no-clip", "a scene needs a clip", starts_at=starts_at)
        if starts_at < now:
            raise TimelineError(
                "starts-in-past", f"scene {clip!r} cannot start before now ({now:.3f})",
                starts_at=starts_at,
            )  # fmt: skip
        kept = [s for s in self._scenes if s.starts_at <= now and s.starts_at < starts_at]
        if not kept:  # nothing has played yet: the line may start here
            self.origin = starts_at if self.origin is None else min(self.origin, starts_at)
        elif self.origin is not None and starts_at < self.origin:
            raise TimelineError("starts-in-past", "before the film's origin", starts_at=starts_at)
        self._seq += 1
        scene = Scene(starts_at=starts_at, seq=self._seq, clip=clip)
        self._scenes = [*kept, scene]
        return scene

    def prepare(self, candidates: Iterable[str]) -> frozenset[str]:
        """Name the clips that may come next (their first GOP gets pre-read)."""
        self.candidates = frozenset(c for c in candidates if c)
        return self.candidates

    def is_live(self, scene: Scene) -> bool:
        """Whether ``scene`` is still scheduled (a reschedule may have replaced it)."""
        i = bisect.bisect_left(self._scenes, scene)
        return i < len(self._scenes) and self._scenes[i] == scene

    def scene_at(self, t: float) -> Scene | None:
        """The scene playing at ``t``: the last one started at or before it."""
        i = bisect.bisect_right([s.starts_at for s in self._scenes], t)
        return self._scenes[i - 1] if i else None

    def successor(self, scene: Scene | None) -> Scene | None:
        """The first live scene after ``scene`` (the first scene if None).

        ``scene`` need not be live: a reader whose scene was replaced asks for whatever
        now follows the time it stood at.
        """
        if scene is None:
            return self._scenes[0] if self._scenes else None
        for candidate in self._scenes:
            if candidate.starts_at > scene.starts_at:
                return candidate
        return None

    def cut_of(self, scene: Scene) -> float | None:
        """When ``scene`` stops: the next scene's start, or None while none is known."""
        following = self.successor(scene)
        return following.starts_at if following is not None else None

    def plays(self, scene: Scene, pts_s: float) -> bool:
        """Whether a packet of ``scene`` at ``pts_s`` is played (False: cut or replaced).

        A packet due within `CUT_TOLERANCE_S` of the cut is cut: ``0.345 + 0.42`` is
        ``0.76499…`` in floats, and that packet would take the next scene's first tick.
        """
        if not self.is_live(scene):
            return False
        cut = self.cut_of(scene)
        return cut is None or scene.starts_at + pts_s < cut - CUT_TOLERANCE_S

    def line_time(self, due: float) -> float:
        """Seconds on the RTP line of a packet due at ``due`` (room clock)."""
        return due - (self.origin if self.origin is not None else due)


def due(scene: Scene, pts_s: float) -> float:
    """Room-clock time at which a packet at ``pts_s`` of ``scene`` is sent."""
    return scene.starts_at + pts_s


@dataclass(slots=True)
class RtpLine:
    """One kind's timestamp line: scene offset plus packet pts, strictly increasing."""

    clock_rate: int
    last: int | None = None
    refused: int = 0  # packets that would have gone back on the line (bad input)

    def stamp(self, line_time: float) -> int | None:
        """The RTP timestamp (before the sender's random origin), None if not increasing.

        Rounding the due time itself (not scene offset and pts apart) keeps the line
        monotonic in due time, which the cut makes strictly increasing across scenes.
        """
        ticks = round(line_time * self.clock_rate)
        if self.last is not None and ticks <= self.last:
            self.refused += 1
            return None
        self.last = ticks
        return ticks


__all__ = [
    "AUDIO_CLOCK_RATE",
    "VIDEO_CLOCK_RATE",
    "RtpLine",
    "Scene",
    "Timeline",
    "due",
]
