"""The 48×48 grey crop: square around the face, area-averaged, edge-filled, in [0, 1]."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from affect.errors import TraceError
from affect.face_crop import grey_crop, square_box


def test_square_box_is_the_longer_side_plus_margin_centred():
    points = np.array([[100.0, 50.0], [180.0, 170.0]])  # 80 wide, 120 tall
    assert square_box(points, margin=0.0) == (80, 50, 120)
    assert square_box(points, margin=0.1) == (68, 38, 144)
    with pytest.raises(TraceError):
        square_box(np.zeros((0, 2)))


def test_a_uniform_grey_face_crops_to_that_grey():
    frame = np.full((100, 100, 3), 51, np.uint8)
    crop = grey_crop(frame, np.array([[20.0, 20.0], [80.0, 80.0]]))
    assert crop.shape == (48, 48) and crop.dtype == np.float32
    np.testing.assert_allclose(crop, 0.2, atol=1e-5)


def test_area_averaging_keeps_the_layout_of_the_face():
    frame = np.zeros((96, 96, 3), np.uint8)
    frame[:48] = 255  # white top half, black bottom half
    crop = grey_crop(frame, np.array([[0.0, 0.0], [96.0, 96.0]]), margin=0.0)
    assert crop[:24].min() == pytest.approx(1.0) and crop[24:].max() == pytest.approx(0.0)
    fine = np.zeros((96, 96, 3), np.uint8)
    fine[::2] = 255  # one-pixel stripes average to grey instead of aliasing
    crop = grey_crop(fine, np.array([[0.0, 0.0], [96.0, 96.0]]), margin=0.0)
    np.testing.assert_allclose(crop, 0.5, atol=1e-5)


@given(
    st.integers(8, 120), st.integers(8, 120),
    st.floats(-50, 150), st.floats(-50, 150), st.floats(0, 200), st.floats(0, 200),
)  # fmt: skip
def test_any_box_in_or_out_of_the_frame_gives_a_valid_crop(h, w, x, y, dw, dh):
    frame = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    crop = grey_crop(frame, np.array([[x, y], [x + dw, y + dh]]))
    assert crop.shape == (48, 48)
    assert np.all((crop >= 0) & (crop <= 1))


def test_bad_frames_are_refused():
    with pytest.raises(TraceError):
        grey_crop(np.zeros((10, 10), np.uint8), np.array([[0.0, 0.0], [5.0, 5.0]]))
