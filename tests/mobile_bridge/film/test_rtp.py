"""RTP packets built once per frame and stamped per peer are what aiortc would send."""

from __future__ import annotations

import itertools

import av
from aiortc.codecs.h264 import H264Encoder
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensions, HeaderExtensionsMap, RtpPacket

from mobile_bridge.film.packet import FilmPacket
from mobile_bridge.film.rtp import RtpStream, extension_block, packetize, sequence_of

MID = "urn:ietf:params:rtp-hdrext:sdes:mid"
ABS_SEND_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"


def access_unit(big: int = 4000) -> bytes:
    """SPS, PPS and an IDR slice too big for one packet (FU-A), Annex-B."""
    return (
        b"\x00\x00\x00\x01\x67" + bytes(range(1, 20))
        + b"\x00\x00\x00\x01\x68" + bytes(range(1, 6))
        + b"\x00\x00\x01\x65" + bytes((i % 250) + 1 for i in range(big))
    )  # fmt: skip


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


def test_payloads_are_aiortcs_own_for_h264_and_the_packet_itself_for_opus():
    data = access_unit()
    packet = av.Packet(data)
    packet.pts = 3000
    packet.time_base = FilmPacket(data, 0, video=True).av_packet().time_base
    theirs, _ = H264Encoder().pack(packet)
    assert list(packetize(data, video=True)) == theirs
    assert len(theirs) > 3  # STAP-A for SPS+PPS, then FU-A fragments
    assert packetize(b"opus", video=False) == (b"opus",)


def test_each_peer_gets_its_ssrc_sequence_timestamp_and_extensions_on_shared_payloads():
    ext_map = extensions_map()
    profile, value = ext_map.set(HeaderExtensions(mid="0", abs_send_time=12345))
    block = extension_block(profile, value)
    payloads = packetize(access_unit(), video=True)
    one = RtpStream(ssrc=111, payload_type=102, sequence_number=65534, timestamp_origin=2**32 - 10)
    two = RtpStream(ssrc=222, payload_type=102, sequence_number=7, timestamp_origin=500)
    for stream in (one, two):
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
    nxt = one.packets((b"x",), 6000)
    assert sequence_of(nxt[0]) == (65534 + len(payloads)) % 2**16  # continues after a frame
    assert RtpPacket.parse(nxt[0]).marker == 1  # a one-packet frame is its own last packet


def test_a_film_packet_is_packetized_once_whoever_asks():
    frame = FilmPacket(access_unit(), 90, video=True, keyframe=True)
    assert frame.payloads() is frame.payloads()
    assert frame.av_packet().pts == 90 and bytes(frame.av_packet()) == bytes(frame)
