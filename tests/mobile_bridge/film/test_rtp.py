"""RTP packets cut once per frame, laid out for GSO and stamped per peer (pure)."""

from __future__ import annotations

import itertools
import random

import pytest
from aiortc.codecs.h264 import H264Encoder, H264PayloadDescriptor
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensions, HeaderExtensionsMap, RtpPacket

from mobile_bridge.film.packet import FilmPacket
from mobile_bridge.film.rtp import (
    MAX_BATCH_BYTES,
    MAX_SEGMENTS,
    PAYLOAD_MAX,
    Layout,
    RtpStream,
    SendTimeBlock,
    extension_block,
    frame_packet,
    nal_units,
    packetize,
    sequence_of,
)

MID = "urn:ietf:params:rtp-hdrext:sdes:mid"
ABS_SEND_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
AUD = b"\x09\xf0"


def access_unit(*slices: int) -> bytes:
    """AUD, SPS, PPS and IDR slices of the given sizes (Annex-B, 3- and 4-byte codes)."""
    out = b"\x00\x00\x00\x01" + AUD + b"\x00\x00\x00\x01\x67" + bytes(range(1, 20))
    out += b"\x00\x00\x00\x01\x68" + bytes(range(1, 6))
    for n, size in enumerate(slices):
        out += b"\x00\x00\x01\x65" + bytes((i * 7 + n) % 250 + 1 for i in range(size - 1))
    return out


def depacketize(payloads) -> bytes:
    """What aiortc's receiver makes of the payloads: an Annex-B access unit."""
    return b"".join(H264PayloadDescriptor.parse(p)[1] for p in payloads)


def extensions_map() -> HeaderExtensionsMap:
    ext_map = HeaderExtensionsMap()
    ext_map.configure(
        RTCRtpParameters(
            headerExtensions=[
                RTCRtpHeaderExtensionParameters(id=1, uri=MID),
                RTCRtpHeaderExtensionParameters(id=3, uri=ABS_SEND_TIME),
            ]
        )
    )
    return ext_map


def test_h264_is_cut_into_stap_a_and_equal_fu_a_fragments_aiortc_reassembles():
    data = access_unit(4000, 1300, 700)
    payloads = packetize(data, video=True)
    units = [u for u in nal_units(data) if u != AUD]
    # AUD dropped; the NAL units come out byte for byte, in order
    assert depacketize(payloads) == b"".join(b"\x00\x00\x00\x01" + u for u in units)
    assert payloads[0][0] & 0x1F == 24  # SPS and PPS in one STAP-A, as aiortc sends them
    fragments = [p for p in payloads if p[0] & 0x1F == 28 and p[1] & 0x1F == 5]
    starts = [i for i, p in enumerate(fragments) if p[1] & 0x80]
    assert len(starts) == 1  # one slice over PAYLOAD_MAX; the 1,300-byte one fits whole
    assert [len(p) for p in fragments[:-1]] == [PAYLOAD_MAX] * (len(fragments) - 1)
    assert 0 < len(fragments[-1]) <= PAYLOAD_MAX and fragments[-1][1] & 0x40  # the end bit
    assert max(len(p) for p in payloads) == PAYLOAD_MAX
    # the same NAL units as aiortc's own packetizer sends (it spreads fragments evenly)
    theirs = H264Encoder._packetize(H264Encoder._split_bitstream(data))
    assert depacketize(theirs) == b"\x00\x00\x00\x01" + AUD + depacketize(payloads)
    assert packetize(b"opus", video=False) == (b"opus",)


@pytest.mark.parametrize("seed", range(20))
def test_a_layout_batches_obey_the_kernels_gso_rules_and_cover_every_packet(seed):
    rng = random.Random(seed)
    sizes = [rng.choice([PAYLOAD_MAX, PAYLOAD_MAX, rng.randint(1, PAYLOAD_MAX)])
             for _ in range(rng.randint(1, 150))]  # fmt: skip
    payloads = [bytes([n % 256]) * size for n, size in enumerate(sizes)]
    header, tag = rng.choice([(12, 16), (24, 10), (24, 16)])
    layout = Layout.of(payloads, header, tag)
    image = layout.image
    # each payload at its place, room for its header before and its tag after
    for (offset, size, _), payload in zip(layout.packets, payloads, strict=True):
        assert size == header + len(payload)
        assert image[offset + header : offset + size] == payload
        assert image[offset : offset + header] == bytes(header)
    assert [m for _, _, m in layout.packets] == [0] * (len(payloads) - 1) + [0x80]
    assert len(image) == sum(header + len(p) + tag for p in payloads)
    # batches: contiguous, in order, all `segment` long but a shorter last, kernel limits
    ends = {offset: offset + size + tag for offset, size, _ in layout.packets}
    position = 0
    for start, end, segment in layout.runs:
        assert start == position
        inside = []
        while position < end:
            inside.append(ends[position] - position)
            position = ends[position]
        assert position == end
        if segment == 0:
            assert len(inside) == 1
        else:
            assert len(inside) > 1 and set(inside[:-1]) == {segment} and inside[-1] <= segment
        assert len(inside) <= MAX_SEGMENTS and end - start <= MAX_BATCH_BYTES
    assert position == len(image)


def test_a_keyframe_of_equal_fragments_is_one_batch():
    payloads = packetize(access_unit(30_000), video=True)
    layout = Layout.of(payloads[1:], 24, 16)  # the fragments, after the STAP-A
    assert len(layout.runs) == 1 and layout.runs[0][2] == 24 + PAYLOAD_MAX + 16


def test_each_peer_gets_its_ssrc_sequence_timestamp_and_extensions_on_shared_payloads():
    ext_map = extensions_map()
    profile, value = ext_map.set(HeaderExtensions(mid="0", abs_send_time=12345))
    block = extension_block(profile, value)
    payloads = packetize(access_unit(4000), video=True)
    one = RtpStream(ssrc=111, payload_type=102, sequence_number=65534, timestamp_origin=2**32 - 10)
    two = RtpStream(ssrc=222, payload_type=102, sequence_number=7, timestamp_origin=500)
    for stream in (one, two):
        first = stream.sequence_number
        packets = [RtpPacket.parse(p, ext_map) for p in stream.packets(payloads, 3000, block)]
        assert [p.payload for p in packets] == list(payloads)  # shared, untouched
        assert {p.ssrc for p in packets} == {stream.ssrc}
        assert {p.payload_type for p in packets} == {102}
        assert {p.timestamp for p in packets} == {(stream.timestamp_origin + 3000) % 2**32}
        assert [p.marker for p in packets] == [0] * (len(packets) - 1) + [1]
        assert {(p.extensions.mid, p.extensions.abs_send_time) for p in packets} == {("0", 12345)}
        steps = {
            (b.sequence_number - a.sequence_number) % 2**16 for a, b in itertools.pairwise(packets)
        }
        assert steps == {1}  # across the 16-bit wrap too
        assert stream.packets_sent == len(packets)
        assert stream.octets_sent == sum(len(p) for p in payloads)
        again = frame_packet(stream, payloads, 2, sequence=(first + 2) % 2**16,
                             timestamp=stream.timestamp, extension=block)  # fmt: skip
        assert RtpPacket.parse(again, ext_map).payload == payloads[2]  # a retransmission
        assert sequence_of(again) == (first + 2) % 2**16
    nxt = one.packets((b"x",), 6000)
    assert sequence_of(nxt[0]) == (65534 + len(payloads)) % 2**16  # continues after a frame
    assert RtpPacket.parse(nxt[0]).marker == 1  # a one-packet frame is its own last packet


@pytest.mark.parametrize("mid", ["0", "12", None])
def test_the_send_time_block_is_aiortcs_own_for_any_send_time(mid):
    ext_map = extensions_map()

    def theirs(abs_send_time):
        return extension_block(*ext_map.set(HeaderExtensions(mid=mid, abs_send_time=abs_send_time)))

    block = SendTimeBlock(theirs(0), theirs(0xFFFFFF))
    assert len(block) == len(theirs(0))
    for value in (0, 1, 0x123456, 0xFFFFFF, 0xABCDEF):
        assert block.block(value) == theirs(value)
    without = HeaderExtensionsMap()  # no abs-send-time negotiated: the block is constant
    assert SendTimeBlock(b"", b"").block(77) == b"" and len(SendTimeBlock(b"", b"")) == 0
    assert without.set(HeaderExtensions(mid="0", abs_send_time=5)) == (0, b"")


def test_a_film_packet_is_packetized_and_laid_out_once_whoever_asks():
    frame = FilmPacket(access_unit(4000), 90, video=True, keyframe=True)
    assert frame.payloads() is frame.payloads()
    assert frame.layout(24, 16) is frame.layout(24, 16)
    assert frame.layout(24, 10) is not frame.layout(24, 16)
    assert frame.av_packet().pts == 90 and bytes(frame.av_packet()) == bytes(frame)
