"""The WebSocket transport ``kinoroom serve`` runs: uvicorn's websockets (sans-I/O) one,
quiet about hostile frames.

Anyone can open a socket and send garbage; the transport answers each hostile frame
with its close code (RFC 6455 §7.4.1: 1007 for a text frame that is not UTF-8, 1009 for
a frame over the size limit, 1002 for a broken frame) and must not let it write a
traceback, or a log line per frame: a script sending a million of them would fill the
disk and bury every real error. uvicorn's implementation closes them correctly but logs
a non-UTF-8 text frame with ``logger.exception`` (a traceback each, before or after
``hello``). `PageSocketProtocol` checks the UTF-8 itself, closes with 1007 and, for any
frame the transport refuses, logs at most one line per client address per
`QUIET_S` (`HostileFrames`), bounded in length.

wsproto, uvicorn's other implementation, logs nothing here but parses frames in pure
Python; websockets' parser (C speedups for unmasking) stays, with this one override.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

log = logging.getLogger(__name__)

INVALID_DATA = 1007  # RFC 6455 §7.4.1: "data within a message that was not consistent"
QUIET_S = 60.0  # one line per address per minute
MAX_ADDRESSES = 4096  # addresses remembered; the oldest is forgotten first
MAX_REASON = 120


class HostileFrames:
    """Decides which refused frames get a log line: the first from an address, then
    none from it for ``quiet_s`` (the line says how many were left out meanwhile)."""

    def __init__(
        self,
        *,
        quiet_s: float = QUIET_S,
        max_addresses: int = MAX_ADDRESSES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.quiet_s, self.max_addresses, self._clock = quiet_s, max_addresses, clock
        self._seen: OrderedDict[str, tuple[float, int]] = OrderedDict()  # → (logged at, left out)

    def note(self, address: str, code: int, reason: str) -> None:
        now = self._clock()
        logged_at, left_out = self._seen.get(address, (float("-inf"), 0))
        if now - logged_at < self.quiet_s:
            self._seen[address] = (logged_at, left_out + 1)
            return
        self._seen[address] = (now, 0)
        self._seen.move_to_end(address)
        while len(self._seen) > self.max_addresses:
            self._seen.popitem(last=False)
        more = f"; {left_out} more since the last line" if left_out else ""
        log.warning(
            "hostile frame from %s: closed %d (%s)%s; the next %g s from it are not logged",
            address, code, reason[:MAX_REASON], more, self.quiet_s,
        )  # fmt: skip


HOSTILE = HostileFrames()


class PageSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol, closing a non-UTF-8 text message with 1007
    and one rate-limited log line instead of a traceback."""

    def send_receive_event_to_app(self) -> None:
        if self.curr_msg_data_type == "text" and not self.close_sent:
            try:
                b"".join(self.frames).decode()
            except UnicodeDecodeError:
                self.frames = []
                self.conn.send_close(INVALID_DATA, "invalid UTF-8 in a text message")
                self.handle_parser_exception()
                return
        super().send_receive_event_to_app()

    def handle_parser_exception(self) -> None:
        close = self.conn.close_sent
        if close is not None:
            address = self.client[0] if self.client else "?"
            HOSTILE.note(address, close.code, close.reason or "refused frame")
        super().handle_parser_exception()


__all__ = ["HOSTILE", "INVALID_DATA", "HostileFrames", "PageSocketProtocol"]
