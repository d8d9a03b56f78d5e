"""When to send each video frame so that every peer gets every frame on time (pure).

The fan-out sends a frame to its peers one after another, always in the same order, so
each peer gets a frame at an offset after its due time: the work for the peers before
it. A keyframe is many times a frame's size (20–60 KB against 2–3 KB at 360p), so with
hundreds of peers its pass takes longer than a frame interval, and the last peers would
get it later than their other frames by ``peers × (keyframe cost − frame cost)``: a late
frame on a phone.

Sending the keyframe early would break the film's rule that nothing is sent before it
is due (the timeline lets the room change whatever is not due yet). So the other frames
are **held** instead: a frame goes out ``peers × (cost(high) − cost(frame)) / 2`` after
it is due, ``high`` being the largest recent keyframe and ``cost`` what a frame costs
one peer. Peer *k* of *N* then gets every frame within ``N × (cost(high) − cost(frame))
/ 2`` of one steady offset (a big keyframe a little late, the frames around it a little
early) instead of twice that late; a frame never waits longer than one frame interval,
so frames still leave in order. Audio is never held.

A hold that moves is itself a late (or early) frame for every peer, so the cost is
estimated robustly and changes rarely: what one more byte of frame costs one peer is the
median, over the last `KEPT` keyframe passes, of the slope from the typical frame (the
median size and cost of the last `KEPT` frame passes) to that keyframe; a pass the box
interrupted moves a median little. The slope changes only when its new estimate is more
than ``hysteresis`` away. Until a keyframe and a frame were measured nothing is held.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field

KEPT = 20  # passes of each kind an estimate is made from


def _kept() -> deque[tuple[int, float]]:
    return deque(maxlen=KEPT)


@dataclass(slots=True)
class Pacing:
    """How long to hold each video frame after its due time (see the module docstring).

    Args:
        max_hold_s: the longest a frame is held (one frame interval).
        hysteresis: how far (a fraction) the estimate must move to be taken.
        keyframe_memory: how fast ``high`` forgets a large keyframe, per keyframe.
    """

    max_hold_s: float = 1 / 30
    hysteresis: float = 0.3
    keyframe_memory: float = 0.005
    high: float = 0.0  # bytes: the largest recent keyframe, decaying
    per_byte_s: float = 0.0  # what one more byte of frame costs one peer
    _keyframes: deque[tuple[int, float]] = field(default_factory=_kept)
    _frames: deque[tuple[int, float]] = field(default_factory=_kept)

    def observe(self, seconds: float, size: int, peers: int, *, keyframe: bool) -> None:
        """One video pass took ``seconds`` for ``peers`` peers and a ``size``-byte frame."""
        if keyframe:
            self.high = max(float(size), self.high * (1.0 - self.keyframe_memory))
        if peers <= 0 or size <= 0 or seconds < 0:
            return
        (self._keyframes if keyframe else self._frames).append((size, seconds / peers))
        if keyframe and self._frames:
            size_p = statistics.median(s for s, _ in self._frames)
            cost_p = statistics.median(c for _, c in self._frames)
            slopes = [(c - cost_p) / (s - size_p) for s, c in self._keyframes if s > 2 * size_p]
            if slopes:
                estimate = max(0.0, statistics.median(slopes))
                if abs(estimate - self.per_byte_s) > self.hysteresis * self.per_byte_s:
                    self.per_byte_s = estimate

    def hold(self, size: int, peers: int) -> float:
        """Seconds after its due time to send a ``size``-byte video frame to ``peers``."""
        extra = peers * self.per_byte_s * (self.high - size)
        return min(self.max_hold_s, max(0.0, extra / 2))


__all__ = ["KEPT", "Pacing"]
