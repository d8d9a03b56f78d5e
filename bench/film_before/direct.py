"""Sending the film straight into a peer's SRTP transport, beside aiortc's RTCRtpSender.

Why: per packet, aiortc's `RTCRtpSender` builds an `RtpPacket`, computes an NTP time,
serializes it, and goes through four coroutines (``_send_rtp``, ``Connection.send``,
``sendto``, ``send_data``) before the socket; per frame, it packetizes the H.264 access
unit again for every peer. For the film that is the same work once per phone. A
`DirectSender` does per packet only what must differ per phone: a 12-byte header
(`rtp.RtpStream`) before payloads cut once per frame (`packet.FilmPacket.payloads`),
SRTP protection with the peer's key, and one ``sendto``.

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
history of the packets sent (retransmitted as they were; the SRTP policy allows a
repeated index), everything else in RTCP (PLI: the next keyframe comes within a GOP)
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
from typing import Any

from aiortc import RTCRtpSender
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RTCP_RTPFB_NACK, AnyRtcpPacket, HeaderExtensions, RtcpRtpfbPacket

from .packet import FilmPacket
from .rtp import RtpStream, extension_block, sequence_of

logger = logging.getLogger(__name__)

HISTORY = 256  # packets kept per peer for NACKs: about 2.5 s of 360p video
BACKLOG_BYTES = 256 * 1024  # a socket's asyncio buffer beyond this: the peer is behind
NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900 (NTP) to 1970 (Unix)
_RUN_RTP_FILE = sys.modules[RTCRtpSender.__module__].__file__


def ntp_now() -> int:
    """The 64-bit NTP time now, as aiortc's `clock.current_ntp_time` (without datetime)."""
    return int((time.time() + NTP_EPOCH_OFFSET) * (1 << 32))


class DirectSender:
    """Sends one peer's film track through that peer's aiortc sender's transport.

    Args:
        sender: the peer's `RTCRtpSender` of this track (started: ICE and DTLS done).
        codec: the codec it negotiated.
        sequence_number, timestamp_origin: where the sender's own stream would start.
        video: H.264 (True) or Opus.
    """

    def __init__(
        self,
        sender: RTCRtpSender,
        codec: RTCRtpCodecParameters,
        *,
        sequence_number: int,
        timestamp_origin: int,
        video: bool,
    ) -> None:
        self.video = video
        self._sender = sender
        self._dtls = sender.transport
        self.stream = RtpStream(
            ssrc=sender._ssrc,
            payload_type=codec.payloadType or 0,  # always set once negotiated
            sequence_number=sequence_number,
            timestamp_origin=timestamp_origin,
        )
        self._extensions = sender._RTCRtpSender__rtp_header_extensions_map  # type: ignore[attr-defined]
        self._mid: str | None = sender._RTCRtpSender__mid  # type: ignore[attr-defined]
        self._history: list[bytes | None] = [None] * HISTORY
        self._waiting_keyframe = False
        self.frames_sent = 0
        self.dropped = 0  # frames not sent because the socket was backed up
        self.retransmitted = 0
        self._aiortc_rtcp = sender._handle_rtcp_packet
        sender._handle_rtcp_packet = self._handle_rtcp_packet  # type: ignore[method-assign]

    @classmethod
    def of_running_sender(cls, video: bool) -> DirectSender | None:
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
                )
        return None

    def send(self, frame: FilmPacket) -> bool:
        """Protect and send one frame's packets; False once the transport is gone."""
        dtls = self._dtls
        if dtls.state != "connected":
            return False
        pair = dtls.transport._connection._nominated.get(1)
        srtp = dtls._tx_srtp
        if pair is None or srtp is None:
            return False
        udp = pair.protocol.transport
        if udp.is_closing():
            return False
        if self._waiting_keyframe and not frame.keyframe:
            self.dropped += 1
            return True
        if udp.get_write_buffer_size() > BACKLOG_BYTES:  # type: ignore[attr-defined]
            self.dropped += 1
            self._waiting_keyframe = self.video
            return True
        self._waiting_keyframe = False
        ntp = ntp_now()
        profile, value = self._extensions.set(
            HeaderExtensions(mid=self._mid, abs_send_time=(ntp >> 14) & 0x00FFFFFF)
        )
        packets = self.stream.packets(frame.payloads(), frame.pts, extension_block(profile, value))
        protect, sendto, addr = srtp.protect, udp.sendto, pair.remote_addr
        history = self._history
        for packet in packets:
            history[sequence_of(packet) % HISTORY] = packet
            sendto(protect(packet), addr)
        self.frames_sent += 1
        sender = self._sender  # what its RTCP sender reports say
        sender._RTCRtpSender__ntp_timestamp = ntp  # type: ignore[attr-defined]
        sender._RTCRtpSender__rtp_timestamp = self.stream.timestamp  # type: ignore[attr-defined]
        sender._RTCRtpSender__packet_count = self.stream.packets_sent  # type: ignore[attr-defined]
        sender._RTCRtpSender__octet_count = self.stream.octets_sent  # type: ignore[attr-defined]
        return True

    async def _handle_rtcp_packet(self, packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
            self._retransmit(packet.lost)
            return
        await self._aiortc_rtcp(packet)

    def _retransmit(self, lost: list[int]) -> None:
        dtls = self._dtls
        pair = dtls.transport._connection._nominated.get(1)
        if dtls.state != "connected" or pair is None or dtls._tx_srtp is None:
            return
        for sequence in lost:
            packet = self._history[sequence % HISTORY]
            if packet is not None and sequence_of(packet) == sequence:
                pair.protocol.transport.sendto(dtls._tx_srtp.protect(packet), pair.remote_addr)
                self.retransmitted += 1


__all__ = ["DirectSender", "ntp_now"]
