"""Our own RTP timestamp origin for the film's senders, so a page can read due times.

A page measures its playout offset by mapping each frame's RTP timestamp back to the
room-clock time it was due: the film stamps a packet ``round((due - film start) × clock
rate)`` (`mobile_bridge.film.timeline`) and aiortc's `RTCRtpSender` adds a random origin
drawn inside ``_run_rtp`` (``timestamp_origin = random32()``, a local variable no API
exposes). RFC 3550 §5.1 wants that origin random, not secret; so instead of reading it
we choose it: `set_rtp_origin` names the origin a sender will use (random by default,
from `random_origin`), and the answer tells the page.

How: aiortc's ``rtcrtpsender.random32`` is replaced by one that returns the chosen
origin while that sender's ``_run_rtp`` task starts (a context variable set by a
wrapper around ``_run_rtp``; ``random32`` is called there once, for the origin), and a
random number everywhere else (SSRCs). Process-wide, installed on import, like
`mobile_bridge.ice`. It leans on aiortc 1.16's private structure: the loopback test
(`tests/web/test_film.py`, offsets within a second) fails if an upgrade moves it.
"""

from __future__ import annotations

import contextvars
import secrets
import weakref
from collections.abc import Callable, Coroutine
from typing import Any

from aiortc import RTCRtpSender
from aiortc import rtcrtpsender as _sender_module

_chosen: weakref.WeakKeyDictionary[RTCRtpSender, int] = weakref.WeakKeyDictionary()
_starting: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "kinoroom_rtp_origin", default=None
)
_random32: Callable[[], int] = _sender_module.random32  # type: ignore[attr-defined]
_run_rtp: Callable[..., Coroutine[Any, Any, None]] = RTCRtpSender._run_rtp


def random_origin() -> int:
    """A fresh random 32-bit origin (RFC 3550 §5.1)."""
    return secrets.randbits(32)


def set_rtp_origin(sender: RTCRtpSender, origin: int) -> None:
    """``sender`` stamps its first packet ``origin`` + the track's first timestamp.

    Call before the sender starts (before ICE and DTLS complete: at answer time).
    """
    _chosen[sender] = origin & 0xFFFFFFFF


def _origin_or_random() -> int:
    origin = _starting.get()
    if origin is not None:
        _starting.set(None)  # once: only the origin, never an SSRC
        return origin
    return _random32()


async def _run_rtp_with_origin(self: RTCRtpSender, *args: Any, **kwargs: Any) -> None:
    _starting.set(_chosen.get(self))  # this task's own context: no other sender sees it
    await _run_rtp(self, *args, **kwargs)


_sender_module.random32 = _origin_or_random  # type: ignore[attr-defined]
RTCRtpSender._run_rtp = _run_rtp_with_origin  # type: ignore[method-assign]

__all__ = ["random_origin", "set_rtp_origin"]
