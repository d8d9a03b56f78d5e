"""SRTP in place in the shared send buffer: the bytes pylibsrtp's own protect makes."""

from __future__ import annotations

import os

import pytest
from pylibsrtp import Policy, Session

from mobile_bridge.film.rtp import Layout, RtpStream
from mobile_bridge.film.srtp import SRTP_MAX_TRAILER, Protector, send_buffer

PROFILES = {
    Policy.SRTP_PROFILE_AES128_CM_SHA1_80: 30,
    Policy.SRTP_PROFILE_AEAD_AES_128_GCM: 28,
    Policy.SRTP_PROFILE_AEAD_AES_256_GCM: 44,
}


def session(profile: int, key: bytes) -> Session:
    policy = Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=profile)
    policy.allow_repeat_tx = True
    return Session(policy)


@pytest.mark.parametrize("profile", list(PROFILES))
@pytest.mark.parametrize("in_place", [True, False])
def test_a_frame_protected_in_place_is_what_session_protect_makes(profile, in_place):
    key = os.urandom(PROFILES[profile])
    ours, theirs = session(profile, key), session(profile, key)
    protector = Protector(ours)
    if not in_place:  # as with a pylibsrtp whose private names moved
        protector._context = None
    assert protector.in_place is in_place
    payloads = [bytes([n]) * size for n, size in enumerate((1300, 1300, 700, 90))]
    stream = RtpStream(ssrc=7, payload_type=102, sequence_number=65533, timestamp_origin=9)
    expected = [theirs.protect(p) for p in stream.packets(payloads, 3000)]
    stream = RtpStream(ssrc=7, payload_type=102, sequence_number=65533, timestamp_origin=9)
    tag = None
    for _ in range(2):  # the first frame learns the tag; then laid out for it exactly
        layout = Layout.of(payloads, 12, SRTP_MAX_TRAILER if tag is None else tag)
        buffer = send_buffer(len(layout.image))
        buffer.data[: len(layout.image)] = layout.image
        stream.write(buffer.data, layout, 3000)
        tag = protector.protect(buffer, layout.packets, tag)
        assert tag == len(expected[0]) - 12 - 1300
        got = [bytes(buffer.data[o : o + size + tag]) for o, size, _ in layout.packets]
        assert got == expected
        expected = [theirs.protect(p) for p in RtpStream(
            ssrc=7, payload_type=102, sequence_number=(65533 + 4) % 2**16, timestamp_origin=9
        ).packets(payloads, 3000)]  # fmt: skip
    assert layout.tag == tag  # the second frame's batches are contiguous: GSO can take them
