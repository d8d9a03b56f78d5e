"""What the fan-out benchmark watches in the server process: every datagram, GC pauses.

Used by ``bench/fanout.py`` (see its docstring for the criteria).
"""

from __future__ import annotations

import gc
import socket
import time
from struct import unpack
from typing import Any

from fanout_sink import FrameLateness

GSO = (17, 103)  # SOL_UDP, UDP_SEGMENT


class SendWatch:
    """Every datagram this process sends goes past `FrameLateness` (see the docstring).

    Patched into the socket class itself: asyncio's transports call its ``sendto``, and
    the film's GSO batches its ``sendmsg`` (a batch's frame ends in its last segment).
    """

    def __init__(self) -> None:
        self.lateness = FrameLateness()
        self.packets = 0
        sendto, sendmsg = socket.socket.sendto, socket.socket.sendmsg
        watch = self

        def watched_sendto(self: socket.socket, data: Any, *args: Any) -> int:
            watch.packets += 1
            if len(data) > 11 and data[1] & 0x80:  # a marker bit: maybe a frame's end
                watch.lateness.see(data, time.monotonic())
            return sendto(self, data, *args)

        def watched_sendmsg(
            self: socket.socket, buffers: Any, ancdata: Any = (), *args: Any
        ) -> int:
            data = buffers[0]
            segment = next((unpack("=H", c[2])[0] for c in ancdata if c[:2] == GSO), len(data))
            last = (len(data) - 1) // segment * segment
            watch.packets += last // segment + 1
            watch.lateness.see(data[last:], time.monotonic())
            return sendmsg(self, buffers, ancdata, *args)

        socket.socket.sendto = watched_sendto  # type: ignore[assignment,method-assign]
        socket.socket.sendmsg = watched_sendmsg  # type: ignore[method-assign]

    def take(self) -> dict[str, Any]:
        out = self.lateness.take()
        out["packets"] = self.packets
        self.packets = 0
        return out


class GcWatch:
    """The garbage collector's pauses in this process (a full collection stops the film)."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._start = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.pauses.append(time.perf_counter() - self._start)

    def take(self) -> dict[str, Any]:
        pauses, self.pauses = self.pauses, []
        return {"gc_pauses": len(pauses), "gc_max_ms": round(1e3 * max(pauses, default=0), 1)}

    def close(self) -> None:
        gc.callbacks.remove(self._callback)


__all__ = ["GcWatch", "SendWatch"]
