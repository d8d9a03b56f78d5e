"""How fast to go through the peers so that every peer gets every frame on time (pure).

The fan-out sends a frame to its peers one after another, always in the same order, so
a peer gets each frame at an offset after it is due: the work for the peers before it.
A keyframe is many times a frame's size (20–60 KB against 2–3 KB at 360p), so with
hundreds of peers its pass takes longer than a frame interval: sent flat out, the last
peers would get it later than their other frames by ``peers × (keyframe cost − frame
cost)``, a late frame on a phone.

So every frame is sent at the keyframe's pace: peer *k* gets its frames ``k × slot``
after they are due, where ``slot`` is what the largest recent keyframe costs one peer,
with room to spare for the other work the event loop does meanwhile (``margin``; the
frames due while a keyframe goes out, audio, RTCP). A keyframe's pass then never falls
behind that schedule, small frames wait for their turn, and each peer's offset is the
same for every frame. That only holds while the slot stays put (every change moves the
later peers' frames), so it changes at keyframes only, goes up at once (a keyframe
must not fall behind) and down slowly, and the largest keyframe is forgotten over
minutes. The whole pass is capped at ``max_spread_s``: past that the box is out of time
anyway, and the keyframe's last peers get it late.

`Pacing` learns the cost from the sends themselves: per peer, a frame costs about
``a + b × bytes`` (SRTP and the system calls grow with the packets, the rest is per
frame), fitted by least squares over the recent sends (exponentially weighted: the
box's load changes). Until it has seen frames of different sizes it has no slot, and
frames go out flat out, as before.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Pacing:
    """The pace of a pass over the peers (see the module docstring).

    Args:
        margin: the slot over the largest keyframe's cost for one peer.
        max_spread_s: the longest a pass may take, first peer to last.
        memory: the weight of the newest send in the fit (1 / sends remembered).
        keyframe_memory: how fast ``high`` forgets a large keyframe, per keyframe (and
            ten times that, how fast the slot comes down).
    """

    margin: float = 2.0
    max_spread_s: float = 0.25
    memory: float = 0.01
    keyframe_memory: float = 0.002
    high: float = 0.0  # bytes: the largest recent keyframe, decaying
    slot: float = 0.0  # seconds per peer: set at each keyframe, up at once, down slowly
    _n: float = 0.0
    _x: float = 0.0
    _y: float = 0.0
    _xx: float = 0.0
    _xy: float = 0.0

    def keyframe(self, size: int) -> None:
        """A keyframe of ``size`` bytes is being sent: the slot follows the largest's cost."""
        self.high = max(float(size), self.high * (1.0 - self.keyframe_memory))
        target = self.margin * self.cost_s(self.high)
        if target >= self.slot:
            self.slot = target
        else:  # every change moves the later peers' frames: go down slowly
            self.slot -= (self.slot - target) * self.keyframe_memory * 10

    def observe(self, seconds: float, size: int, peers: int) -> None:
        """Sending a ``size``-byte frame to ``peers`` peers took ``seconds``."""
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
            return 0.0  # every send the same size: nothing to tell bytes from frames
        return max(0.0, (self._xy / self._n - mean_x * self._y / self._n) / variance)

    def cost_s(self, size: int | float) -> float:
        """The fitted cost of sending a ``size``-byte frame to one peer (0 before a fit)."""
        b = self.per_byte_s
        if b <= 0.0:
            return 0.0
        a = (self._y - b * self._x) / self._n
        return max(0.0, a + b * size)

    def slot_s(self, peers: int) -> float:
        """Seconds between two consecutive peers' turns in a pass over ``peers`` peers."""
        return min(self.slot, self.max_spread_s / peers) if peers > 0 else 0.0


__all__ = ["Pacing"]
