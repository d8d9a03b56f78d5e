"""The per-viewer pipeline on real images: a smiling astronaut, a coffee cup, noise."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from affect.appraisal import CLASSES
from affect.face_crop import grey_crop
from affect.rppg import FOREHEAD
from affect.viewer import ViewerAnalysis
from tests.affect.synthetic_face import SIGNATURE


@pytest.fixture(scope="module")
def astronaut():
    return np.ascontiguousarray(data.astronaut())  # Eileen Collins, smiling, 512×512


def test_a_smiling_face_is_found_happy_and_pleasant(landmarker, classifier, astronaut):
    mesh = landmarker.detect(astronaut)
    assert mesh is not None
    assert mesh.points_px.shape == (478, 3)
    x, y = mesh.points_px[FOREHEAD, :2]
    assert 180 < x < 280 and 60 < y < 140  # her forehead, not the flag or the helmet
    assert mesh.blendshapes["mouthSmileLeft"] > 0.5
    probabilities = classifier.classify(grey_crop(astronaut, mesh.points_px))[0]
    assert CLASSES[int(np.argmax(probabilities))] == "happy"

    reading = ViewerAnalysis(landmarker, classifier).analyse(astronaut, at=0.0)
    assert reading.usable, reading.flags
    assert reading.top_class == "happy"
    assert reading.raw_valence > 0.5
    assert reading.engagement > 0.5  # facing the camera, eyes on it
    assert reading.to_sample("phone-1").valence == reading.valence


def test_without_the_classifier_blendshapes_still_read_the_smile(landmarker, astronaut):
    reading = ViewerAnalysis(landmarker, None).analyse(astronaut, at=0.0)
    assert reading.usable and reading.top_class is None
    assert reading.raw_valence > 0.5


def test_the_baseline_reads_a_constant_smile_as_this_viewers_normal(
    landmarker, classifier, astronaut
):
    viewer = ViewerAnalysis(landmarker, classifier)
    first = viewer.analyse(astronaut, at=0.0)
    second = viewer.analyse(astronaut, at=0.5)
    assert first.valence == 0.0 and not first.calibrated
    assert second.valence == pytest.approx(0.0, abs=1e-6)
    assert second.raw_valence == first.raw_valence


@pytest.mark.parametrize(
    "image",
    [
        np.ascontiguousarray(data.coffee()),
        np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8),
        np.full((240, 320, 3), 128, np.uint8),
    ],
    ids=["coffee", "noise", "grey"],
)
def test_a_faceless_image_is_flagged_no_face_and_yields_no_sample(landmarker, classifier, image):
    reading = ViewerAnalysis(landmarker, classifier).analyse(image, at=0.0)
    assert reading.flags == ("no-face",)
    assert reading.valence is None and reading.to_sample("phone-1") is None


def test_a_dark_room_is_flagged_too_dark(landmarker, classifier, astronaut):
    dark = (astronaut * 0.1).astype(np.uint8)
    reading = ViewerAnalysis(landmarker, classifier).analyse(dark, at=0.0)
    assert "too-dark" in reading.flags
    assert reading.to_sample("phone-1") is None


def test_a_face_jumping_between_frames_is_flagged_moving(landmarker, classifier, astronaut):
    viewer = ViewerAnalysis(landmarker, classifier)
    assert viewer.analyse(astronaut, at=0.0).usable
    moved = viewer.analyse(np.roll(astronaut, 60, axis=1), at=0.5)
    assert moved.flags == ("moving",)
    assert viewer.analyse(np.roll(astronaut, 60, axis=1), at=1.0).usable  # still again


def test_a_real_face_whose_skin_pulses_at_72_bpm_gives_its_heart_rate(landmarker, astronaut):
    """30 fps camera, face analysed at 2 fps, skin sampled on every frame in between."""
    rng = np.random.default_rng(7)
    viewer = ViewerAnalysis(landmarker, None)
    fps, reading = 30.0, None
    base = astronaut.astype(np.float32)
    # Per-pixel sensor noise (σ = 3 levels): a few fields drawn up front, picked at random.
    noise = rng.normal(0, 3.0, (6, *astronaut.shape)).astype(np.float32)
    for i in range(int(11 * fps)):
        t = i / fps
        phase = 2 * np.pi * 72 / 60 * t
        pulse = (np.sin(phase) + 0.3 * np.sin(2 * phase)) * 0.003 * SIGNATURE
        light = 1 + 0.02 * np.sin(2 * np.pi * 0.13 * t)
        frame = base * (1 + pulse) * light + noise[rng.integers(len(noise))]
        frame = np.clip(np.round(frame), 0, 255).astype(np.uint8)
        if i % 15 == 0:
            reading = viewer.analyse(frame, t)
        else:
            viewer.sample_skin(frame, t)
    assert reading is not None and reading.heart_rate_bpm is not None
    assert reading.heart_rate_bpm == pytest.approx(72, abs=3)
    assert reading.heart_rate_confidence > 0.8
    assert reading.to_sample("phone-1").heart_rate_bpm == reading.heart_rate_bpm


def test_losing_the_face_clears_the_pulse_trace(landmarker, astronaut):
    viewer = ViewerAnalysis(landmarker, None)
    viewer.analyse(astronaut, at=0.0)
    for i in range(1, 30):
        viewer.sample_skin(astronaut, i / 30)
    assert viewer.pulse.span_s > 0.9
    viewer.analyse(np.zeros_like(astronaut), at=1.0)
    assert viewer.pulse.span_s == 0.0
    viewer.sample_skin(astronaut, 1.1)  # no patches without a face: nothing added
    assert viewer.pulse.span_s == 0.0


def test_a_still_face_reuses_its_landmarks_and_a_changed_one_does_not(landmarker, astronaut):
    face = np.ascontiguousarray(astronaut[::2, ::2])  # 256×256, as a phone might send
    noise = np.random.default_rng(1).normal(0, 3, face.shape)
    noisy = np.clip(face + noise, 0, 255).astype(np.uint8)  # sensor noise: still the same face
    viewer = ViewerAnalysis(landmarker, None, reuse_landmarks_s=1.5)
    readings = [viewer.analyse(f, at=0.5 * i) for i, f in enumerate([face, noisy, face])]
    assert viewer.landmarker_runs == 1
    assert all(r.usable for r in readings)
    assert readings[2].raw_valence == readings[0].raw_valence
    shifted = np.ascontiguousarray(np.roll(face, 12, axis=1))  # she moved: a fresh mesh
    viewer.analyse(shifted, at=1.5)
    assert viewer.landmarker_runs == 2
    viewer.analyse(shifted, at=3.5)  # still, but the mesh is older than 1.5 s
    assert viewer.landmarker_runs == 3
    never = ViewerAnalysis(landmarker, None, reuse_landmarks_s=0.0)
    for i in range(3):
        never.analyse(face, at=0.5 * i)
    assert never.landmarker_runs == 3
