"""One frame to hundreds of peers at the pace of a keyframe: chunks on the event loop.

`FanOut.publish` hands each video frame to the peers sent directly in one call
(``FanOut.deliver``). A `Spread` sends it to the first `CHUNK` of them at once and to
each further chunk one slot later (``loop.call_at``), the slot being what the largest
recent keyframe costs that many peers, with a margin (`pacing.Pacing.slot_s`). A
keyframe's pass then takes the time it needs without pushing its last peers later than
their other frames, small frames wait for their turn, and between two chunks the event
loop does everything else (audio, RTCP, ICE). Each frame's chunks are timed, and a
keyframe's sum fed back to the `Pacing`.

A peer's frames keep their order: a chunk goes out after the same chunk of the frame
before, even when the slot shrinks from one frame to the next, and a peer moves to an
earlier chunk only when a peer before it leaves, by one chunk at most, while two chunks
are at most `MAX_STEP_S` apart (half a frame interval). `cancel` drops the chunks not
sent yet (the film closed).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from mobile_bridge.film.direct import send_frame
from mobile_bridge.film.pacing import Pacing
from mobile_bridge.film.packet import FilmPacket

CHUNK = 16  # peers sent in one go: ~3 ms of a 50-KB keyframe here
MAX_STEP_S = 0.015  # between two chunks at most: half a frame interval (keeps the order)
ORDER_S = 1e-6  # a chunk goes out at least this long after the same chunk of the last frame


class _Tally:
    """A frame's pass so far: chunks left, seconds spent, peers sent."""

    __slots__ = ("left", "peers", "seconds")

    def __init__(self, chunks: int) -> None:
        self.left, self.seconds, self.peers = chunks, 0.0, 0


class Spread:
    """Sends frames to direct peers in chunks, paced by ``pacing`` (a `FanOut.deliver`).

    Args:
        send: sends one frame to some peers (`direct.send_frame`).
    """

    def __init__(
        self,
        pacing: Pacing,
        chunk: int = CHUNK,
        send: Callable[[FilmPacket, list[object]], None] = send_frame,
    ) -> None:
        self.pacing = pacing
        self.chunk = chunk
        self._send_frame = send
        self._last: list[float] = []  # when each chunk (by index) of the last frame goes
        self._timers: deque[asyncio.TimerHandle] = deque()
        self.chunks_sent = 0

    def __call__(self, frame: FilmPacket, peers: list[object]) -> None:
        if frame.keyframe:
            self.pacing.keyframe(len(frame.data))
        loop = asyncio.get_running_loop()
        now = loop.time()
        timers = self._timers
        while timers and timers[0].when() < now:  # sent already
            timers.popleft()
        step = min(self.pacing.slot_s(len(peers)) * self.chunk, MAX_STEP_S)
        last = self._last
        parts = [peers[start : start + self.chunk] for start in range(0, len(peers), self.chunk)]
        tally = _Tally(len(parts))
        for index, part in enumerate(parts):
            at = now + index * step
            if index < len(last):
                at = last[index] = max(at, last[index] + ORDER_S)
            else:
                last.append(at)
            if at <= now:
                self._send(frame, part, tally)
            else:
                timers.append(loop.call_at(at, self._send, frame, part, tally))

    def _send(self, frame: FilmPacket, peers: list[object], tally: _Tally) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        self._send_frame(frame, peers)
        tally.seconds += loop.time() - start
        tally.peers += len(peers)
        tally.left -= 1
        if tally.left == 0:  # the frame's whole pass, once: the fit's unit
            self.pacing.observe(
                tally.seconds, len(frame.data), tally.peers, keyframe=frame.keyframe
            )
        self.chunks_sent += 1

    def cancel(self) -> None:
        """Drop the chunks not sent yet."""
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()


__all__ = ["CHUNK", "MAX_STEP_S", "Spread"]
