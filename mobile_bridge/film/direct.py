"""Sending the film straight into a peer's SRTP transport, beside aiortc's RTCRtpSender.

Why: per packet, aiortc's `RTCRtpSender` builds an `RtpPacket`, computes an NTP time,
serializes it, and goes through four coroutines (``_send_rtp``, ``Connection.send``,
``sendto``, ``send_data``) before the socket; per frame, it packetizes the H.264 access
unit again for every peer. For the film that is the same work once per phone. A
`DirectSender` does per packet only what must differ per phone: a 12-byte header
(`rtp.RtpStream`) before payloads cut once per frame (`packet.FilmPacket.payloads`),
SRTP protection with the peer's key in place, in a buffer shared by every peer
(`srtp`), and one ``sendmsg`` for the frame's packets with UDP GSO (`gso`), or one
``sendto`` per packet where GSO is off or refused.

How it fits aiortc (1.16): the peer connection still has its `RTCRtpSender` for the
film track, which negotiated everything (SSRC, payload type, header extension ids,
MID), runs RTCP (sender reports, receiver reports) and owns the DTLS/SRTP transport.
Its ``_run_rtp`` task calls the track's ``recv()`` once; the track finds that sender
from there (`DirectSender.of_running_sender`: the ``_run_rtp`` frame up the call
stack, whose locals hold the codec, the first sequence number and the timestamp origin
the sender drew — including an origin chosen with `mobile_bridge.rtp_origin`) and
from then on never returns a packet: the fan-out hands each frame to `send`, in the
reader's task, and the sender's task waits for the track to end. The sender's counters
(packets, octets, last NTP/RTP time) are kept up to date, so its RTCP sender reports
(lip sync, Chrome's stats) are what aiortc would have sent; a NACK is answered from a
history of the frames sent (each packet rebuilt and retransmitted as it was; the SRTP
policy allows a repeated index), everything else in RTCP (PLI: the next keyframe comes within a GOP)
goes to aiortc's own handler. Reaching into private attributes is the price; the
loopback tests (`tests/mobile_bridge/film/test_loopback.py`) check that a peer is sent
directly and decodes, so an aiortc upgrade that moves them fails there, not in a phone.

A peer whose socket is backed up (the kernel buffer full, asyncio buffering) drops
video to the next keyframe, as a lagging peer queue does.
"""

from __future__ import annotations

import logging
import sys
import time
from asyncio import DatagramProtocol, DatagramTransport
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiortc import RTCRtpSender
from aiortc.rtcdtlstransport import State
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RTCP_RTPFB_NACK, AnyRtcpPacket, HeaderExtensions, RtcpRtpfbPacket

from mobile_bridge.film import gso
from mobile_bridge.film.packet import FilmPacket
from mobile_bridge.film.rtp import (
    HEADER_SIZE,
    Layout,
    RtpStream,
    SendTimeBlock,
    extension_block,
    frame_packet,
)
from mobile_bridge.film.srtp import SRTP_MAX_TRAILER, Protector, SendBuffer, send_buffer

logger = logging.getLogger(__name__)

HISTORY = 128  # frames kept per peer for NACKs: over 4 s of 30-fps video
BACKLOG_BYTES = 256 * 1024  # a socket's asyncio buffer beyond this: the peer is behind
NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900 (NTP) to 1970 (Unix)
_RUN_RTP_FILE = sys.modules[RTCRtpSender.__module__].__file__
_CONNECTED = State.CONNECTED


def ntp_now() -> int:
    """The 64-bit NTP time now, as aiortc's `clock.current_ntp_time` (without datetime)."""
    return int((time.time() + NTP_EPOCH_OFFSET) * (1 << 32))


class Prepared:
    """A frame laid out in this thread's send buffer: what every peer's send reuses.

    Made once per frame, header size and tag size in a pass over the peers
    (`send_frame`): the layout, libsrtp's pointer to each packet, and views of the buffer
    for each GSO batch and each datagram, so that a peer's send makes no Python object
    per packet.
    """

    __slots__ = ("buffer", "datagrams", "layout", "runs", "targets")

    def __init__(self, layout: Layout) -> None:
        buffer: SendBuffer = send_buffer(len(layout.image))
        view = buffer.view
        self.layout, self.buffer = layout, buffer
        self.targets = buffer.targets(layout.packets)
        self.runs = tuple(
            ([view[start:end]], gso.control(segment) if segment else None)
            for start, end, segment in layout.runs
        )
        self.datagrams = tuple(
            view[offset : offset + size + layout.tag] for offset, size, _ in layout.packets
        )


def send_frame(frame: FilmPacket, senders: list[object]) -> None:
    """One frame to every peer sent directly, one after another (`FanOut.deliver`)."""
    prepared: dict[tuple[int, int], Prepared] = {}
    for sender in senders:
        assert isinstance(sender, DirectSender)
        if not sender.send(frame, prepared) and sender.on_gone is not None:
            sender.on_gone()


@dataclass(slots=True)
class _Link:
    """Where a connected peer's packets go: its ICE pair's transport and socket."""

    transport: DatagramTransport
    protocol: DatagramProtocol
    addr: tuple[Any, ...]
    protector: Protector
    sendmsg: Callable[..., int] | None  # the socket's, when it may batch (GSO)
    sendto: Callable[..., int] | None


class DirectSender:
    """Sends one peer's film track through that peer's aiortc sender's transport.

    Args:
        sender: the peer's `RTCRtpSender` of this track (started: ICE and DTLS done).
        codec: the codec it negotiated.
        sequence_number, timestamp_origin: where the sender's own stream would start.
        video: H.264 (True) or Opus.
        gso: batch each frame's packets with UDP GSO where the kernel takes it.
    """

    def __init__(
        self,
        sender: RTCRtpSender,
        codec: RTCRtpCodecParameters,
        *,
        sequence_number: int,
        timestamp_origin: int,
        video: bool,
        gso: bool = True,
    ) -> None:
        self.video = video
        self.gso = gso
        self._sender = sender
        self._dtls = sender.transport
        self.stream = RtpStream(
            ssrc=sender._ssrc,
            payload_type=codec.payloadType or 0,  # always set once negotiated
            sequence_number=sequence_number,
            timestamp_origin=timestamp_origin,
        )
        extensions = sender._RTCRtpSender__rtp_header_extensions_map  # type: ignore[attr-defined]
        mid: str | None = sender._RTCRtpSender__mid  # type: ignore[attr-defined]
        zero, ones = (
            extension_block(*extensions.set(HeaderExtensions(mid=mid, abs_send_time=value)))
            for value in (0, 0xFFFFFF)
        )
        self._extension = SendTimeBlock(zero, ones)
        self._header = HEADER_SIZE + len(self._extension)
        self._tag: int | None = None  # SRTP's tag size, learnt from the first frame
        self._layout_key = (self._header, SRTP_MAX_TRAILER)  # then (header, tag)
        self._link: _Link | None = None
        self._history: list[tuple[FilmPacket, int, int, bytes] | None] = [None] * HISTORY
        self._waiting_keyframe = False
        self.frames_sent = 0
        self.dropped = 0  # frames not sent because the socket was backed up
        self.unprotected = 0  # frames libsrtp refused
        self.retransmitted = 0
        self.batches = 0  # GSO calls of more than one packet
        self.datagrams = 0  # packets sent one ``sendto`` each
        self.on_gone: Callable[[], None] | None = None  # the transport closed
        self._aiortc_rtcp = sender._handle_rtcp_packet
        sender._handle_rtcp_packet = self._handle_rtcp_packet  # type: ignore[method-assign]

    @classmethod
    def of_running_sender(cls, video: bool, gso: bool = True) -> DirectSender | None:
        """The sender whose ``_run_rtp`` is calling (through ``recv()``), or None."""
        frame = sys._getframe(1)
        for _ in range(8):
            frame = frame.f_back  # type: ignore[assignment]
            if frame is None:
                return None
            code = frame.f_code
            if code.co_name == "_run_rtp" and code.co_filename == _RUN_RTP_FILE:
                local: dict[str, Any] = frame.f_locals
                sender, codec = local.get("self"), local.get("codec")
                if not isinstance(sender, RTCRtpSender) or codec is None:
                    return None
                return cls(
                    sender,
                    codec,
                    sequence_number=int(local["sequence_number"]),
                    timestamp_origin=int(local["timestamp_origin"]),
                    video=video,
                    gso=gso,
                )
        return None

    def _connect(self) -> _Link | None:
        """The nominated ICE pair's transport and socket, once DTLS is up."""
        dtls = self._dtls
        pair = dtls.transport._connection._nominated.get(1)
        srtp = dtls._tx_srtp
        if pair is None or srtp is None:
            return None
        transport, addr = pair.protocol.transport, pair.remote_addr
        sock = gso.datagram_socket(transport, addr) if self.gso and gso.supported() else None
        self._link = _Link(
            transport, pair.protocol, addr, Protector(srtp),
            sock.sendmsg if sock is not None else None, sock.sendto if sock is not None else None,
        )  # fmt: skip
        return self._link

    def send(
        self, frame: FilmPacket, prepared: dict[tuple[int, int], Prepared] | None = None
    ) -> bool:
        """Protect and send one frame's packets; False once the transport is gone.

        Args:
            prepared: the frame as laid out for the peers before this one in a pass
                (`send_frame`), by header and tag size; this peer's layout is added.
        """
        if self._dtls._state is not _CONNECTED:
            return False
        link = self._link or self._connect()
        if link is None:
            return False
        udp = link.transport
        if udp.is_closing():
            return False
        if self._waiting_keyframe and not frame.keyframe:
            self.dropped += 1
            return True
        backlog = udp.get_write_buffer_size()  # type: ignore[attr-defined]
        if backlog > BACKLOG_BYTES:
            self.dropped += 1
            self._waiting_keyframe = self.video
            return True
        self._waiting_keyframe = False
        ntp = ntp_now()
        extension = self._extension.block(ntp >> 14)
        tag, key = self._tag, self._layout_key
        ready = prepared.get(key) if prepared is not None else None
        if ready is None:
            ready = Prepared(frame.layout(*key))
            if prepared is not None:
                prepared[key] = ready
        layout, buffer = ready.layout, ready.buffer
        buffer.data[: len(layout.image)] = layout.image
        first = self.stream.write(buffer.data, layout, frame.pts, extension)
        protected = link.protector.protect(buffer, layout.packets, tag, ready.targets)
        if protected < 0:
            self.unprotected += 1
            return True
        if tag is None:  # the first frame: now the tag size is known
            self._tag, self._layout_key = protected, (self._header, protected)
            for offset, size, _ in layout.packets:
                udp.sendto(buffer.view[offset : offset + size + protected], link.addr)
            self.datagrams += len(layout.packets)
        elif link.sendmsg is not None and not backlog:
            self._send_batches(link, ready)
        else:
            self._send_datagrams(link, ready, 0)
        self._history[self.frames_sent % HISTORY] = (frame, first, self.stream.timestamp, extension)
        self.frames_sent += 1
        sender = self._sender  # what its RTCP sender reports say
        sender._RTCRtpSender__ntp_timestamp = ntp  # type: ignore[attr-defined]
        sender._RTCRtpSender__rtp_timestamp = self.stream.timestamp  # type: ignore[attr-defined]
        sender._RTCRtpSender__packet_count = self.stream.packets_sent  # type: ignore[attr-defined]
        sender._RTCRtpSender__octet_count = self.stream.octets_sent  # type: ignore[attr-defined]
        return True

    def _send_batches(self, link: _Link, ready: Prepared) -> None:
        """Each batch of the frame in one system call: GSO ``sendmsg``, or ``sendto``."""
        sendmsg, sendto, addr = link.sendmsg, link.sendto, link.addr
        assert sendmsg is not None and sendto is not None
        for i, (data, control) in enumerate(ready.runs):
            try:
                if control is not None:
                    sendmsg(data, control, 0, addr)
                    self.batches += 1
                else:
                    sendto(data[0], addr)
                    self.datagrams += 1
            except BlockingIOError:  # the socket is full: asyncio buffers the rest
                self._send_datagrams(link, ready, ready.layout.runs[i][0])
                return
            except OSError as exc:
                if control is not None and exc.errno in gso.REFUSED:
                    gso.note_refused(exc)
                    link.sendmsg = None
                    self._send_datagrams(link, ready, ready.layout.runs[i][0])
                    return
                link.protocol.error_received(exc)  # as asyncio's sendto would

    def _send_datagrams(self, link: _Link, ready: Prepared, start: int) -> None:
        """The frame's packets from offset ``start`` on, one asyncio ``sendto`` each."""
        sendto, addr = link.transport.sendto, link.addr
        for (offset, _, _), data in zip(ready.layout.packets, ready.datagrams, strict=True):
            if offset >= start:
                sendto(data, addr)
                self.datagrams += 1

    async def _handle_rtcp_packet(self, packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
            self._retransmit(packet.lost)
            return
        await self._aiortc_rtcp(packet)

    def _retransmit(self, lost: list[int]) -> None:
        link, srtp = self._link, self._dtls._tx_srtp
        if self._dtls._state is not _CONNECTED or link is None or srtp is None:
            return
        for sequence in lost:
            for entry in self._history:
                if entry is None:
                    continue
                frame, first, timestamp, extension = entry
                payloads = frame.payloads()
                index = (sequence - first) & 0xFFFF
                if index < len(payloads):
                    packet = frame_packet(self.stream, payloads, index, sequence=sequence,
                                          timestamp=timestamp, extension=extension)  # fmt: skip
                    link.transport.sendto(srtp.protect(packet), link.addr)
                    self.retransmitted += 1
                    break


__all__ = ["DirectSender", "Prepared", "ntp_now", "send_frame"]
