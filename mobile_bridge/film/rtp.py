"""RTP for the film: payloads cut once per frame for every peer, headers stamped per peer.

aiortc's `RTCRtpSender` packetizes each frame again for every peer it is sent to
(``encoder.pack``), builds an `RtpPacket` per packet and serializes it. With one film and
hundreds of peers that is the same work hundreds of times (DESIGN.md, "Media:
passthrough"). Here a frame is cut into RTP payloads **once** (`packetize`) and laid out
once per header size (`Layout`): the payloads at the places they take in a send buffer,
so that a peer's packets of one frame are one copy of that image, a 12-byte header (its
SSRC, sequence numbers, timestamp origin) and header extensions stamped per packet
(`RtpStream.write`), and SRTP's tag after each packet, written in place.

The packetizer is H.264 packetization mode 1 as aiortc's (STAP-A for small NAL units,
FU-A for large ones, at most `PAYLOAD_MAX` bytes of payload) with two differences made
for UDP GSO, where one system call sends many datagrams of one size and a shorter last
one: FU-A fragments are all `PAYLOAD_MAX` bytes but the last (aiortc spreads a NAL unit
evenly over its fragments, so they differ by a byte), and access unit delimiters (NAL
type 9, which say only "a picture starts", as the RTP marker bit and timestamp already
do) are not sent, since each would be a datagram of its own. `Layout.runs` groups a
frame's packets into such batches.

Pure: no asyncio, no sockets, no clock (the extension block, which carries the send
time, is an argument).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from struct import Struct

PAYLOAD_MAX = 1300  # bytes of RTP payload per packet, as aiortc's packetizer
MAX_SEGMENTS = 64  # datagrams per GSO call (the kernel's UDP_MAX_SEGMENTS)
MAX_BATCH_BYTES = 65_000  # bytes per GSO call: a UDP datagram's length is 16 bits
NAL_AUD = 9
NAL_STAP_A = 24
NAL_FU_A = 28
STAP_A_MAX_UNITS = 9  # as aiortc
_START = b"\x00\x00\x01"
_HEADER = Struct("!BBHLL")
_EXTENSION = Struct("!HH")
_LENGTH = Struct("!H")
RTP_VERSION_BITS = 0x80
EXTENSION_BIT = 0x10
MARKER_BIT = 0x80
HEADER_SIZE = 12


def nal_units(data: bytes) -> list[bytes]:
    """The NAL units of an Annex-B access unit, without start codes (as aiortc splits it)."""
    units = []
    i = data.find(_START)
    while i != -1:
        start = i + 3
        i = data.find(_START, start)
        end = len(data) if i == -1 else i - 1 if data[i - 1] == 0 else i
        if end > start:
            units.append(data[start:end])
    return units


def fragments(unit: bytes) -> list[bytes]:
    """FU-A fragments of one NAL unit: all `PAYLOAD_MAX` bytes long but the last."""
    indicator = (unit[0] & 0xE0) | NAL_FU_A
    nal_type = unit[0] & 0x1F
    step = PAYLOAD_MAX - 2
    size = len(unit)
    out = []
    for start in range(1, size, step):
        flags = (0x80 if start == 1 else 0) | (0x40 if start + step >= size else 0)
        out.append(bytes((indicator, nal_type | flags)) + unit[start : start + step])
    return out


def aggregate(units: Sequence[bytes]) -> bytes:
    """A STAP-A packet of whole NAL units (F: any unit's; NRI: the highest)."""
    forbidden = nri = 0
    for unit in units:
        forbidden |= unit[0] & 0x80
        nri = max(nri, unit[0] & 0x60)
    body = b"".join(_LENGTH.pack(len(unit)) + unit for unit in units)
    return bytes((forbidden | nri | NAL_STAP_A,)) + body


def packetize(data: bytes, *, video: bool) -> tuple[bytes, ...]:
    """The RTP payloads of one encoded frame.

    Args:
        data: an Annex-B H.264 access unit (video) or one Opus packet.
        video: H.264 (STAP-A and FU-A, see the module docstring) or Opus (as is).
    """
    if not video:
        return (data,)
    units = [unit for unit in nal_units(data) if unit[0] & 0x1F != NAL_AUD]
    out: list[bytes] = []
    i = 0
    while i < len(units):
        if len(units[i]) > PAYLOAD_MAX:
            out.extend(fragments(units[i]))
            i += 1
            continue
        room, j = PAYLOAD_MAX - 1, i
        while j < len(units) and j - i < STAP_A_MAX_UNITS and len(units[j]) + 2 <= room:
            room -= len(units[j]) + 2
            j += 1
        if j - i <= 1:
            out.append(units[i])
            i += 1
        else:
            out.append(aggregate(units[i:j]))
            i = j
    return tuple(out)


def extension_block(profile: int, value: bytes) -> bytes:
    """A header extension block (RFC 8285) from aiortc's ``HeaderExtensionsMap.set``."""
    if not value:
        return b""
    return _EXTENSION.pack(profile, len(value) >> 2) + value


class SendTimeBlock:
    """One stream's extension block, with the 24-bit abs-send-time stamped per frame.

    Made from the block with abs-send-time 0 and with 0xFFFFFF (whatever order and ids
    the negotiated extensions have): the three bytes that differ are the send time.
    """

    __slots__ = ("_prefix", "_suffix", "constant")

    def __init__(self, zero: bytes, ones: bytes) -> None:
        if len(zero) != len(ones):
            raise ValueError("the two blocks differ in length")
        changed = [i for i, (a, b) in enumerate(zip(zero, ones, strict=True)) if a != b]
        if not changed:
            self.constant: bytes | None = zero
            self._prefix = self._suffix = b""
            return
        first = changed[0]
        if changed != [first, first + 1, first + 2]:
            raise ValueError("abs-send-time is not three consecutive bytes")
        self.constant = None
        self._prefix, self._suffix = zero[:first], zero[first + 3 :]

    def __len__(self) -> int:
        if self.constant is not None:
            return len(self.constant)
        return len(self._prefix) + 3 + len(self._suffix)

    def block(self, abs_send_time: int) -> bytes:
        """The block for one frame (``abs_send_time``: 6.18 fixed-point seconds)."""
        if self.constant is not None:
            return self.constant
        return self._prefix + (abs_send_time & 0xFFFFFF).to_bytes(3, "big") + self._suffix


@dataclass(frozen=True, slots=True)
class Layout:
    """One frame's packets in a send buffer, for one header size and SRTP tag size.

    Attributes:
        image: the buffer's first ``len(image)`` bytes: each payload after room for its
            header and before room for its tag, both zero.
        packets: per packet, (offset, length before the tag, marker bit).
        runs: per GSO batch, (start, end, segment size): consecutive packets all
            ``segment`` bytes long with their tags but the last, which may be shorter,
            at most `MAX_SEGMENTS` and `MAX_BATCH_BYTES`; ``segment`` is 0 for a batch
            of one packet.
        header, tag: the sizes it was laid out for.
        octets: payload bytes, as an RTCP sender report counts them.
    """

    image: bytes
    packets: tuple[tuple[int, int, int], ...]
    runs: tuple[tuple[int, int, int], ...]
    header: int
    tag: int
    octets: int

    @classmethod
    def of(cls, payloads: Sequence[bytes], header: int, tag: int) -> Layout:
        """Lay ``payloads`` out for ``header`` bytes of header and ``tag`` bytes of tag."""
        image = bytearray()
        packets = []
        head, gap = bytes(header), bytes(tag)
        last = len(payloads) - 1
        for i, payload in enumerate(payloads):
            packets.append((len(image), header + len(payload), MARKER_BIT if i == last else 0))
            image += head
            image += payload
            image += gap
        runs = []
        i = 0
        while i < len(packets):
            size = packets[i][1] + tag
            limit = min(MAX_SEGMENTS, MAX_BATCH_BYTES // size)
            j = i + 1
            while j < len(packets) and j - i < limit and packets[j][1] + tag == size:
                j += 1
            if j < len(packets) and j - i < limit and packets[j][1] + tag < size:
                j += 1  # a shorter packet may end the batch
            end = packets[j - 1][0] + packets[j - 1][1] + tag
            runs.append((packets[i][0], end, size if j - i > 1 else 0))
            i = j
        octets = sum(len(payload) for payload in payloads)
        return cls(bytes(image), tuple(packets), tuple(runs), header, tag, octets)


@functools.cache
def _header_struct(extension: int) -> Struct:
    return Struct(f"!BBHLL{extension}s") if extension else _HEADER


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

    def write(self, buffer: bytearray, layout: Layout, pts: int, extension: bytes = b"") -> int:
        """Stamp the frame's headers into ``buffer`` (holding ``layout.image``).

        Each packet gets this stream's SSRC, payload type and next sequence number, the
        frame's timestamp (``pts`` after this stream's origin), the marker bit on the last
        packet and ``extension`` (`extension_block`). Returns the first sequence number.
        """
        if layout.header != HEADER_SIZE + len(extension):
            raise ValueError("the layout is for another header size")
        timestamp = (self.timestamp_origin + pts) & 0xFFFFFFFF
        pack = _header_struct(len(extension)).pack_into
        payload_type, ssrc = self.payload_type, self.ssrc
        first = sequence = self.sequence_number
        if extension:
            version = RTP_VERSION_BITS | EXTENSION_BIT
            for offset, _, marker in layout.packets:
                pack(buffer, offset, version, payload_type | marker, sequence, timestamp, ssrc,
                     extension)  # fmt: skip
                sequence = (sequence + 1) & 0xFFFF
        else:
            for offset, _, marker in layout.packets:
                pack(buffer, offset, RTP_VERSION_BITS, payload_type | marker, sequence,
                     timestamp, ssrc)  # fmt: skip
                sequence = (sequence + 1) & 0xFFFF
        self.sequence_number = sequence
        self.timestamp = timestamp
        self.packets_sent += len(layout.packets)
        self.octets_sent += layout.octets
        return first

    def packets(self, payloads: Sequence[bytes], pts: int, extension: bytes = b"") -> list[bytes]:
        """The frame's packets as separate bytes (what `write` stamps, before SRTP)."""
        layout = Layout.of(payloads, HEADER_SIZE + len(extension), 0)
        buffer = bytearray(layout.image)
        self.write(buffer, layout, pts, extension)
        return [bytes(buffer[offset : offset + size]) for offset, size, _ in layout.packets]


def frame_packet(
    stream: RtpStream, payloads: Sequence[bytes], index: int, *, sequence: int, timestamp: int,
    extension: bytes,
) -> bytes:  # fmt: skip
    """One packet of a frame sent before, as it was (a retransmission)."""
    marker = MARKER_BIT if index == len(payloads) - 1 else 0
    version = RTP_VERSION_BITS | EXTENSION_BIT if extension else RTP_VERSION_BITS
    header = _HEADER.pack(version, stream.payload_type | marker, sequence, timestamp, stream.ssrc)
    return header + extension + payloads[index]


def sequence_of(packet: bytes) -> int:
    """The sequence number of an RTP packet."""
    return (packet[2] << 8) | packet[3]


__all__ = [
    "MAX_BATCH_BYTES",
    "MAX_SEGMENTS",
    "PAYLOAD_MAX",
    "Layout",
    "RtpStream",
    "SendTimeBlock",
    "aggregate",
    "extension_block",
    "fragments",
    "frame_packet",
    "nal_units",
    "packetize",
    "sequence_of",
]
