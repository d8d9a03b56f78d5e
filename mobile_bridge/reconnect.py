"""Why a phone's session ended, and whether and when to come back (pure).

What a closed socket means, in order of authority:

- whether to come back: a ``bye{reason, reconnect}`` says so outright; without one the
  close code decides: 1001 (going away), 1012 (restart), 4009 (slow consumer) and 1006
  (the connection simply vanished: a killed server, a phone that lost its network) mean
  "come back with the same token"; any other code means the same hello would be
  refused again;
- the error code: the close code's own meaning (`CLOSE_CODE_ERRORS`: 4001 is
  ``bad-token``), else the ``error{code}`` sent just before the close, else ``closed``.

A client that comes back waits per `Backoff` first: exponential so a dead server is not
hammered, jittered so ten thousand phones dropped by one restart do not all return in
the same millisecond, capped so a phone is back soon after the server is, and bounded so
a room that is gone is eventually given up on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mobile_bridge.protocol import Bye, CloseCode, Error

if TYPE_CHECKING:
    import random

ABNORMAL_CLOSURE = 1006  # RFC 6455 §7.1.5: no close frame, the TCP connection just ended
RECONNECT_CLOSE_CODES = frozenset(
    {CloseCode.GOING_AWAY, CloseCode.RESTART, CloseCode.SLOW_CONSUMER, ABNORMAL_CLOSURE}
)
CLOSE_CODE_ERRORS: dict[int, str] = {
    CloseCode.GOING_AWAY: "shutting-down",
    CloseCode.RESTART: "shutting-down",
    CloseCode.INVALID_DATA: "bad-message",
    CloseCode.POLICY: "forbidden",
    CloseCode.TOO_LARGE: "too-large",
    CloseCode.BAD_TOKEN: "bad-token",
    CloseCode.ROOM_NOT_FOUND: "room-not-found",
    CloseCode.PROTOCOL_VERSION: "protocol-version",
    CloseCode.RATE_LIMITED: "rate-limited",
    CloseCode.SLOW_CONSUMER: "slow-consumer",
}

HTTP_STATUS_ERRORS = {403: "forbidden", 404: "room-not-found", 429: "rate-limited"}


class ClientError(Exception):
    """A room refused or ended a client's session, or could not be reached.

    ``code`` is one of `mobile_bridge.protocol.ERROR_CODES` or a client-side code:
    ``closed`` (the session ended, no more precise code), ``disconnected`` (the socket
    is down, a reconnect is under way), ``unreachable`` (no connection could be opened),
    ``connection-lost`` (reconnecting gave up), ``bad-message`` (a reply that is not the
    protocol) or ``http-<status>``. ``close_code`` is the WebSocket close code when there
    was one; ``reconnect`` says whether the same token may be tried again.
    """

    def __init__(
        self, code: str, message: str, *, close_code: int | None = None, reconnect: bool = False
    ) -> None:
        self.code = code
        self.message = message
        self.close_code = close_code
        self.reconnect = reconnect
        super().__init__(code, message)

    def __str__(self) -> str:
        where = f" (close {self.close_code})" if self.close_code is not None else ""
        return f"{self.code}: {self.message}{where}"


@dataclass(frozen=True, slots=True)
class Backoff:
    """Reconnect schedule: before attempt ``n`` (from 0) wait ``min(cap_s, first_s * 2**n)``
    less up to ``jitter`` of it at random; give up after ``attempts`` failures."""

    attempts: int = 8
    first_s: float = 0.25
    cap_s: float = 8.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.attempts < 0 or self.first_s < 0 or self.cap_s < 0 or not 0 <= self.jitter <= 1:
            raise ValueError(f"nonsense backoff: {self}")

    def delay_s(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait before attempt ``attempt``."""
        ceiling = min(self.cap_s, self.first_s * 2.0 ** min(attempt, 60))
        return ceiling * (1 - self.jitter * rng.random())


def refused_upgrade(url: str, status: int) -> ClientError:
    """The server answered the WebSocket upgrade with HTTP ``status`` instead of 101:
    a bad Origin (403), an unknown room (404), too many attempts (429) are final; a
    server that is starting or overloaded (5xx) is worth another try."""
    code = HTTP_STATUS_ERRORS.get(status, f"http-{status}")
    return ClientError(code, f"{url}: HTTP {status}", reconnect=status >= 500)


def session_end(
    close_code: int | None, close_reason: str, *, bye: Bye | None, error: Error | None
) -> ClientError:
    """The `ClientError` a closed socket ends its session with (see the module docstring).

    Args:
        close_code: the code of the close frame received (1006 when none came).
        close_reason: its reason text.
        bye: the ``bye`` the socket carried, if any.
        error: the ``error`` right before the close, if any: its code is used when the
            close code has no meaning of its own (1000, 1006, 1011).
    """
    reason = close_reason or f"connection closed ({close_code})"
    if bye is not None:
        reason, reconnect = bye.reason, bye.reconnect
    else:
        reconnect = close_code in RECONNECT_CLOSE_CODES
    code = CLOSE_CODE_ERRORS.get(close_code or 0) or (error.code if error else "closed")
    return ClientError(code, reason, close_code=close_code, reconnect=reconnect)


__all__ = [
    "ABNORMAL_CLOSURE",
    "CLOSE_CODE_ERRORS",
    "HTTP_STATUS_ERRORS",
    "RECONNECT_CLOSE_CODES",
    "Backoff",
    "ClientError",
    "refused_upgrade",
    "session_end",
]
