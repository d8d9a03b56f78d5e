"""Camera heart rate: a pulsing synthetic face gives its rate, noise gives low confidence."""

from __future__ import annotations

import numpy as np
import pytest

from affect.errors import TraceError
from affect.rppg import (
    CHEEKS,
    FOREHEAD,
    Box,
    PulseTracker,
    confidence,
    estimate,
    mean_rgb,
    pos,
    skin_patches,
)
from tests.affect.synthetic_face import PATCHES, pulse_video


def track(frames, times, patches=PATCHES):
    tracker = PulseTracker()
    for frame, t in zip(frames, times, strict=True):
        tracker.add(mean_rgb(frame, patches), t)
    return tracker


@pytest.mark.parametrize("seed", [0, 1])
def test_a_face_pulsing_at_72_bpm_reads_72_with_high_confidence(seed):
    estimate_ = track(*pulse_video(72, seed=seed)).estimate()
    assert estimate_ is not None
    assert estimate_.bpm == pytest.approx(72, abs=3)
    assert estimate_.confidence > 0.8


@pytest.mark.parametrize("seed", [0, 1])
def test_the_same_face_without_a_pulse_reads_low_confidence(seed):
    estimate_ = track(*pulse_video(None, seed=seed)).estimate()
    assert estimate_ is not None
    assert estimate_.confidence < 0.3


def test_a_phone_camera_at_15_fps_with_jitter_still_reads_the_rate():
    frames, times = pulse_video(96, fps=15.0, seed=3)
    estimate_ = track(frames, times).estimate()
    assert estimate_ is not None
    assert estimate_.bpm == pytest.approx(96, abs=3)


@pytest.mark.parametrize("bpm", [48, 60, 90, 120, 150, 180])
def test_rates_across_the_band_from_a_noisy_trace(bpm):
    rng = np.random.default_rng(bpm)
    fps, n = 30.0, 300
    t = np.arange(n) / fps
    skin = np.array([190.0, 140.0, 120.0])
    pulse = np.sin(2 * np.pi * bpm / 60 * t)[:, None] * np.array([0.33, 0.77, 0.53]) * 0.003
    light = (1 + 0.05 * np.sin(2 * np.pi * 0.2 * t))[:, None]  # 15× the pulse, in intensity
    trace = skin * (1 + pulse) * light + rng.normal(0, 0.1, (n, 3))
    result = estimate(trace, fps)
    assert result.bpm == pytest.approx(bpm, abs=3)
    assert result.confidence > 0.8


def test_too_short_or_too_sparse_traces_give_no_estimate():
    frames, times = pulse_video(72, seconds=4.0)
    assert track(frames, times).estimate() is None  # 4 s < 6 s
    frames, times = pulse_video(72, fps=2.0)  # the face analysis rate: too slow for a pulse
    assert track(frames, times).estimate() is None


def test_the_window_slides_and_forgets():
    frames, times = pulse_video(72, seconds=14.0)
    tracker = track(frames, times)
    assert tracker.span_s <= 10.0
    tracker.add(np.array([1.0, 1.0, 1.0]), times[-1])  # duplicate time: ignored
    assert tracker.span_s <= 10.0
    tracker.clear()
    assert tracker.estimate() is None


def test_skin_patches_sit_on_the_forehead_and_cheeks_and_stay_in_the_frame():
    points = np.zeros((478, 2))
    points[:, 0] = np.linspace(100, 200, 478)  # face 100 px wide
    points[:, 1] = 150
    points[FOREHEAD] = (150, 100)
    points[CHEEKS[0]] = (120, 160)
    points[CHEEKS[1]] = (195, 160)
    forehead, left, right = skin_patches(points, (240, 200, 3))
    assert (forehead.x0, forehead.x1, forehead.y0, forehead.y1) == (136, 164, 95, 105)
    assert left.x0 < 120 < left.x1 and left.y0 < 160 < left.y1
    assert right.x1 == 200  # clipped at the frame's edge
    with pytest.raises(TraceError):
        skin_patches(points[:100], (240, 200, 3))


def test_mean_rgb_weights_patches_by_area_and_refuses_bad_frames():
    frame = np.zeros((10, 10, 3), np.uint8)
    frame[:, :5] = (100, 0, 0)
    frame[:, 5:] = (0, 0, 200)
    mean = mean_rgb(frame, [Box(0, 0, 5, 2), Box(5, 0, 10, 6)])  # 10 red px, 30 blue px
    assert mean.tolist() == pytest.approx([25.0, 0.0, 150.0])
    assert mean_rgb(frame, [Box(3, 3, 3, 9)]) is None
    with pytest.raises(TraceError):
        mean_rgb(frame[..., 0], PATCHES)


def test_bad_traces_are_refused():
    with pytest.raises(TraceError):
        pos(np.ones((10, 3)), 30.0)  # shorter than one 1.6 s window
    with pytest.raises(TraceError):
        pos(np.zeros((100, 3)), 30.0)  # black
    with pytest.raises(TraceError):
        estimate(np.ones((100, 3)), 4.0)  # cannot see 4 Hz at 4 fps


def test_confidence_rises_with_snr():
    values = [confidence(db) for db in (-20, -4, 0, 4, 20)]
    assert values == sorted(values)
    assert values[1] < 0.2 < 0.8 < values[3]
    assert confidence(float("nan")) == 0.0
