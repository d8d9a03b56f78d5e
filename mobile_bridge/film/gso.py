"""UDP GSO: a peer's packets of one frame in one system call.

Linux (4.18 on) takes one buffer of equal-size datagrams, the last one possibly
shorter, in one ``sendmsg`` with a ``UDP_SEGMENT`` control message (``SOL_UDP``,
option 103, the segment size as a native ``uint16``) and cuts it into datagrams itself,
late in the stack or in the network card. Measured here (kernel 6.x, loopback): a
1,340-byte datagram costs 2.3 µs with ``sendto`` and 1.0 µs in a batch of 20.

Where it cannot be used, the film sends one datagram at a time, as before:

* `supported` sends two segments to itself on loopback, once per process: a kernel
  without GSO refuses the option or, older than 4.18, ignores it and sends one datagram;
  both mean "no", logged once.
* `datagram_socket` reaches the socket under aioice's datagram transport (asyncio's
  ``get_extra_info("socket")`` only wraps it); None if that is not a UDP socket, or is
  connected to another address than the peer's.
* A socket or route that refuses a batch later (`REFUSED`: a device without checksum
  offload, IPsec, a path MTU below the segment size, ``SO_NO_CHECK``) makes that peer's
  sender send its packets one at a time from then on; `note_refused` logs the first time.

The batches go to the peer's address only; STUN (ICE consent), DTLS and RTCP keep going
through aioice's transport as before.
"""

from __future__ import annotations

import errno
import functools
import logging
import socket
import struct
import sys
from asyncio import BaseTransport
from typing import Any

logger = logging.getLogger(__name__)

SOL_UDP = 17
UDP_SEGMENT = 103
REFUSED = frozenset({errno.EINVAL, errno.EIO, errno.EOPNOTSUPP, errno.ENOPROTOOPT})
PROBE_TIMEOUT_S = 0.5
_noted = False


@functools.cache
def control(segment: int) -> list[tuple[int, int, bytes]]:
    """The ``sendmsg`` ancillary data for batches of ``segment``-byte datagrams."""
    return [(SOL_UDP, UDP_SEGMENT, struct.pack("=H", segment))]


@functools.cache
def supported() -> bool:
    """Whether this kernel splits a GSO batch (probed once, on loopback; logged if not)."""
    reason = _probe()
    if reason:
        logger.warning("film-gso-off %s: the film sends one datagram at a time", reason)
    return not reason


def _probe() -> str:
    if not sys.platform.startswith("linux") or not hasattr(socket.socket, "sendmsg"):
        return f"not Linux ({sys.platform})"
    try:
        with (
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx,
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx,
        ):
            rx.bind(("127.0.0.1", 0))
            rx.settimeout(PROBE_TIMEOUT_S)
            tx.sendmsg([bytes(300)], control(200), 0, rx.getsockname())
            sizes = (len(rx.recv(1024)), len(rx.recv(1024)))
    except OSError as exc:
        return f"probe failed: {exc}"
    return "" if sizes == (200, 100) else f"probe received datagrams of {sizes} bytes"


def datagram_socket(transport: BaseTransport, addr: tuple[Any, ...]) -> socket.socket | None:
    """The UDP socket under ``transport`` that may batch to ``addr``, or None."""
    wrapped = transport.get_extra_info("socket")
    sock = getattr(wrapped, "_sock", wrapped)  # asyncio's TransportSocket wraps it
    if not isinstance(sock, socket.socket) or sock.type != socket.SOCK_DGRAM:
        return None
    peer = transport.get_extra_info("peername")
    if peer is not None and tuple(peer[:2]) != tuple(addr[:2]):
        return None
    return sock


def note_refused(exc: OSError) -> None:
    """Log, the first time in this process, that a socket refused a GSO batch."""
    global _noted
    if not _noted:
        _noted = True
        logger.warning("film-gso-refused %s: that peer is sent one datagram at a time", exc)


__all__ = ["REFUSED", "SOL_UDP", "UDP_SEGMENT", "control", "datagram_socket", "note_refused",
           "supported"]  # fmt: skip
