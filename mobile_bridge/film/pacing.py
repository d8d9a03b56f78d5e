"""How fast to go through the peers so that every peer gets every frame on time (pure).

The fan-out sends a frame to its peers one after another, always in the same order, so
a peer gets each frame at an offset after it is due: the work for the peers before it.
A keyframe is many times a frame's size (20–60 KB against 2–3 KB at 360p), so with
hundreds of peers its pass takes longer than a frame interval: sent flat out, the last
peers would get it later than their other frames by ``peers × (keyframe cost − frame
cost)``, a late frame on a phone.

So every frame is sent at the keyframe's pace: peer *k* gets its frames ``k × slot``
after they are due, ``slot`` being what the largest recent keyframe costs one peer,
with room to spare (``margin``) for the other work the event loop does meanwhile (the
frames due while a keyframe goes out, audio, RTCP). A keyframe's pass then does not
fall behind that timetable, smaller frames wait for their turn, and each peer's offset
is the same for every frame.

That holds only while the slot stays put: every change moves the later peers' frames,
which a phone sees as late (a longer slot) or early (a shorter one) frames. A slot too
long costs only latency; too short, the largest keyframes fall behind. So the cost is
measured on keyframe passes only, taken at a high percentile of the recent ones (a pass
the box interrupted does not count), and the slot changes only when that estimate moves
by more than ``hysteresis``. The whole pass is capped at ``max_spread_s``: past that the
box is out of time anyway, and a keyframe's last peers get it late.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

KEYFRAMES_KEPT = 20  # about 20 s of film at a 1-s GOP


@dataclass(slots=True)
class Pacing:
    """The pace of a pass over the peers (see the module docstring).

    Args:
        margin: the slot over the largest recent keyframe's cost for one peer.
        hysteresis: how far (a fraction) the estimate must move to change the slot.
        max_spread_s: the longest a pass may take, first peer to last.
        percentile: which of the recent keyframe costs is taken.
        keyframe_memory: how fast ``high`` forgets a large keyframe, per keyframe.
    """

    margin: float = 2.0
    hysteresis: float = 0.3
    max_spread_s: float = 0.25
    percentile: float = 0.75
    keyframe_memory: float = 0.005
    high: float = 0.0  # bytes: the largest recent keyframe, decaying
    slot: float = 0.0  # seconds per peer
    _per_byte: deque[float] = field(default_factory=lambda: deque(maxlen=KEYFRAMES_KEPT))

    def keyframe(self, size: int) -> None:
        """A keyframe of ``size`` bytes is about to be sent: the slot may change now."""
        self.high = max(float(size), self.high * (1.0 - self.keyframe_memory))
        target = self.margin * self.per_byte_s * self.high
        if abs(target - self.slot) > self.hysteresis * self.slot:
            self.slot = target

    def observe(self, seconds: float, size: int, peers: int, *, keyframe: bool) -> None:
        """Sending a ``size``-byte frame to ``peers`` peers took ``seconds`` in all."""
        if keyframe and peers > 0 and size > 0 and seconds >= 0:
            self._per_byte.append(seconds / peers / size)

    @property
    def per_byte_s(self) -> float:
        """A recent keyframe's cost for one peer per byte of it (the percentile), seconds."""
        if not self._per_byte:
            return 0.0
        ranked = sorted(self._per_byte)
        return ranked[min(len(ranked) - 1, int(self.percentile * len(ranked)))]

    def slot_s(self, peers: int) -> float:
        """Seconds between two consecutive peers' turns in a pass over ``peers`` peers."""
        return min(self.slot, self.max_spread_s / peers) if peers > 0 else 0.0


__all__ = ["KEYFRAMES_KEPT", "Pacing"]
