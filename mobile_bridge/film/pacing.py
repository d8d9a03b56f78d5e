"""When to send each video frame so that every peer gets every frame on time (pure).

The fan-out sends a frame to its peers one after another, always in the same order, so
each peer gets a frame at an offset after its due time: the work for the peers before
it. A keyframe is many times a frame's size (20–60 KB against 2–3 KB at 360p), so with
hundreds of peers its pass takes longer than a frame interval, and the last peers would
get it later than their other frames by ``peers × (keyframe cost − frame cost)``: a late
frame on a phone.

Sending the keyframe early would break the film's rule that nothing is sent before it
is due (the timeline lets the room change whatever is not due yet). So the other frames
are **held** instead: a frame of ``size`` bytes goes out ``peers × b × (high − size) / 2``
after it is due, where ``b`` is the cost of one byte of frame for one peer and ``high``
the size of the largest recent keyframe. Peer *k* of *N* then gets every frame within
``N × b × (high − mean) / 2`` of one steady offset (a big keyframe a little late, the
frames around it a little early) instead of ``N × b × (high − mean)`` late; a frame
never waits longer than one frame interval, so frames still leave in order. Audio is
never held.

`Pacing` learns ``b`` from the passes themselves: per peer, a pass costs about
``a + b × bytes`` (SRTP and the system calls grow with the packets, the rest is per
frame), fitted by least squares over the recent passes (exponentially weighted: the
box's load changes). Until it has seen passes of different sizes it holds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Pacing:
    """How long to hold each video frame after its due time (see the module docstring).

    Args:
        max_hold_s: the longest a frame is held (one frame interval).
        memory: the weight of the newest pass in the fit (1 / passes remembered).
        keyframe_memory: how fast ``high`` forgets a large keyframe, per keyframe.
    """

    max_hold_s: float = 1 / 30
    memory: float = 0.01
    keyframe_memory: float = 0.02
    high: float = 0.0  # bytes: the largest recent keyframe, decaying
    _n: float = 0.0
    _x: float = 0.0
    _y: float = 0.0
    _xx: float = 0.0
    _xy: float = 0.0

    def observe(self, seconds: float, size: int, peers: int, *, keyframe: bool) -> None:
        """One video pass took ``seconds`` for ``peers`` peers and a ``size``-byte frame."""
        if keyframe:
            self.high = max(float(size), self.high * (1.0 - self.keyframe_memory))
        if peers <= 0 or size <= 0 or seconds < 0:
            return
        x, y, keep = float(size), seconds / peers, 1.0 - self.memory
        self._n = self._n * keep + 1.0
        self._x = self._x * keep + x
        self._y = self._y * keep + y
        self._xx = self._xx * keep + x * x
        self._xy = self._xy * keep + x * y

    @property
    def per_byte_s(self) -> float:
        """The fitted cost of one more byte of frame for one peer, in seconds (``b``)."""
        if self._n <= 0:
            return 0.0
        mean_x = self._x / self._n
        variance = self._xx / self._n - mean_x * mean_x
        if variance <= 1e-9 * max(1.0, mean_x * mean_x):
            return 0.0  # every pass the same size: nothing to tell bytes from frames
        return max(0.0, (self._xy / self._n - mean_x * self._y / self._n) / variance)

    def hold(self, size: int, peers: int) -> float:
        """Seconds after its due time to send a ``size``-byte video frame to ``peers``."""
        extra = peers * self.per_byte_s * (self.high - size)
        return min(self.max_hold_s, max(0.0, extra / 2))


__all__ = ["Pacing"]
