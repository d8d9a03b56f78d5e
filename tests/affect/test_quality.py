"""Quality flags: dark frames, moving faces, tiny or unclear faces are flagged, clean ones not."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from affect.errors import TraceError
from affect.quality import FLAGS, Limits, assess, landmark_motion, mean_luma


def test_a_clear_still_face_in_light_is_usable():
    assert assess(face_found=True, luma=120, motion=0.05, face_px=120, confidence=0.9) == ()


def test_each_problem_earns_its_flag():
    assert assess(face_found=False, luma=120) == ("no-face",)
    assert assess(face_found=True, luma=12, motion=0.0) == ("too-dark",)
    assert assess(face_found=True, luma=120, motion=2.0) == ("moving",)
    assert assess(face_found=True, luma=120, face_px=20) == ("low-confidence",)
    assert assess(face_found=True, luma=120, confidence=0.2) == ("low-confidence",)
    assert assess(face_found=False, luma=5, motion=9.0, confidence=0.0) == ("no-face", "too-dark")
    assert assess(face_found=True, luma=float("nan")) == ("too-dark",)


def test_limits_are_configurable():
    strict = Limits(min_luma=200)
    assert assess(face_found=True, luma=120, limits=strict) == ("too-dark",)


@given(
    st.booleans(),
    st.floats(0, 255),
    st.none() | st.floats(0, 10),
    st.floats(0, 500),
    st.floats(0, 1),
)
def test_flags_are_known_ordered_and_no_face_excludes_face_flags(found, luma, motion, px, conf):
    flags = assess(face_found=found, luma=luma, motion=motion, face_px=px, confidence=conf)
    assert list(flags) == [f for f in FLAGS if f in flags]
    if not found:
        assert "moving" not in flags and "low-confidence" not in flags


def test_mean_luma_of_black_white_and_grey_frames():
    assert mean_luma(np.zeros((4, 5, 3), np.uint8)) == 0.0
    assert mean_luma(np.full((4, 5, 3), 255, np.uint8)) == pytest.approx(255.0)
    frame = np.zeros((2, 2, 3), np.uint8)
    frame[..., 1] = 100  # green only
    assert mean_luma(frame) == pytest.approx(58.7)
    with pytest.raises(TraceError):
        mean_luma(np.zeros((4, 5), np.uint8))


def test_motion_is_in_face_widths_per_second_whatever_the_face_size():
    rng = np.random.default_rng(1)
    small = rng.uniform(0, 50, (478, 2))
    big = small * 4
    shift = np.array([5.0, 0.0])
    near = landmark_motion(big, big + 4 * shift, 0.5)
    far = landmark_motion(small, small + shift, 0.5)
    assert near == pytest.approx(far)
    assert far == pytest.approx(5.0 / np.ptp(small[:, 0]) / 0.5)
    assert landmark_motion(small, small, 0.25) == 0.0
    collapsed = np.zeros((3, 2))
    assert math.isinf(landmark_motion(collapsed, collapsed, 1.0))
    with pytest.raises(TraceError):
        landmark_motion(small, small[:10], 0.5)
    with pytest.raises(TraceError):
        landmark_motion(small, small, 0.0)
