"""RTP for the film: payloads cut once per frame for every peer, headers stamped per peer.

aiortc's `RTCRtpSender` packetizes each frame again for every peer it is sent to
(``encoder.pack``: split the access unit at its start codes, FU-A/STAP-A), builds an
`RtpPacket` per packet and serializes it. With one film and hundreds of peers that is
the same work hundreds of times (DESIGN.md, "Media: passthrough"). Here a frame is cut
into RTP payloads **once** (`packetize`, with aiortc's own H.264 packetizer, so the
payloads are byte for byte what aiortc would send), and each peer's `RtpStream` only
writes the 12-byte header (its SSRC, sequence numbers, timestamp origin) and its header
extensions in front of the shared payloads.

Pure: no asyncio, no sockets, no clock (the extension block, which carries the send
time, is an argument).
"""

from __future__ import annotations

from collections.abc import Sequence
from struct import Struct

from aiortc.codecs.h264 import H264Encoder

_HEADER = Struct("!BBHLL")
_EXTENSION = Struct("!HH")
RTP_VERSION_BITS = 0x80
EXTENSION_BIT = 0x10
MARKER_BIT = 0x80


def packetize(data: bytes, *, video: bool) -> tuple[bytes, ...]:
    """The RTP payloads of one encoded frame.

    Args:
        data: an Annex-B H.264 access unit (video) or one Opus packet.
        video: H.264 (split at start codes, FU-A/STAP-A as aiortc does) or Opus (as is).
    """
    if not video:
        return (data,)
    return tuple(H264Encoder._packetize(H264Encoder._split_bitstream(data)))


def extension_block(profile: int, value: bytes) -> bytes:
    """A header extension block (RFC 8285) from aiortc's ``HeaderExtensionsMap.set``."""
    if not value:
        return b""
    return _EXTENSION.pack(profile, len(value) >> 2) + value


class RtpStream:
    """One peer's RTP stream of one track: what makes its packets its own.

    Args:
        ssrc: the stream's SSRC (the aiortc sender's, announced in the SDP).
        payload_type: the negotiated payload type.
        sequence_number: the first packet's sequence number.
        timestamp_origin: added to every frame's timestamp (RFC 3550 §5.1: random).
    """

    __slots__ = (
        "octets_sent",
        "packets_sent",
        "payload_type",
        "sequence_number",
        "ssrc",
        "timestamp",
        "timestamp_origin",
    )

    def __init__(
        self, *, ssrc: int, payload_type: int, sequence_number: int, timestamp_origin: int
    ) -> None:
        self.ssrc = ssrc
        self.payload_type = payload_type
        self.sequence_number = sequence_number & 0xFFFF
        self.timestamp_origin = timestamp_origin & 0xFFFFFFFF
        self.timestamp = self.timestamp_origin
        self.packets_sent = 0
        self.octets_sent = 0  # payload octets, as an RTCP sender report counts them

    def packets(self, payloads: Sequence[bytes], pts: int, extension: bytes = b"") -> list[bytes]:
        """The frame's packets: a header per payload, the marker bit on the last one.

        Args:
            payloads: the frame's payloads (`packetize`), shared by every peer.
            pts: the frame's timestamp on the codec clock, before this stream's origin.
            extension: the header extension block (`extension_block`), or nothing.
        """
        timestamp = (self.timestamp_origin + pts) & 0xFFFFFFFF
        first = RTP_VERSION_BITS | EXTENSION_BIT if extension else RTP_VERSION_BITS
        pack = _HEADER.pack
        ssrc, payload_type = self.ssrc, self.payload_type
        sequence = self.sequence_number
        last = len(payloads) - 1
        out = []
        for i, payload in enumerate(payloads):
            second = payload_type | MARKER_BIT if i == last else payload_type
            out.append(pack(first, second, sequence, timestamp, ssrc) + extension + payload)
            sequence = (sequence + 1) & 0xFFFF
            self.octets_sent += len(payload)
        self.sequence_number = sequence
        self.timestamp = timestamp
        self.packets_sent += len(out)
        return out


def sequence_of(packet: bytes) -> int:
    """The sequence number of a packet `RtpStream.packets` wrote."""
    return (packet[2] << 8) | packet[3]


__all__ = ["RtpStream", "extension_block", "packetize", "sequence_of"]
