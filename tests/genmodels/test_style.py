"""The style anchor: the film's own frames pass, foreign footage fails, grading helps."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.color import rgb2lab  # test-only: the reference our numpy conversion matches

from genmodels.style import (
    Anchor,
    Conformer,
    analysis_frame,
    grain_level,
    identity_conformer,
    lab_to_srgb,
    srgb_to_lab,
)
from narrative.story import Style
from tests.mobile_bridge.film.clips import COLOURS, picture

STYLE = Style(references=["film/red"], palette=["#dc1e1e", "#1e28dc", "#dcd21e"])


def film_frames(colours=("red", "blue", "yellow"), start=0):
    return [picture(COLOURS[c], i) for c in colours for i in range(start, start + 60, 8)]


def noise_frames(count=4, shape=(180, 320)):
    """Saturated magenta and green, pixel by pixel: nothing like the film."""
    rng = np.random.default_rng(0)
    palette = np.array([[230, 20, 230], [20, 230, 20]], np.uint8)
    return [palette[rng.integers(0, 2, shape)] for _ in range(count)]


def cast(frames):
    """The film under a cold blue cast: the kind of drift a grade can fix."""
    return [
        np.clip(f * np.array([0.55, 0.75, 1.0]) + [0, 20, 60], 0, 255).astype(np.uint8)
        for f in frames
    ]


@pytest.fixture(scope="module")
def anchor():
    return Anchor.from_frames(film_frames(), STYLE)


def test_lab_matches_scikit_image_and_round_trips():
    rgb = np.random.default_rng(1).integers(0, 256, (4000, 3)).astype(np.uint8)
    ours = srgb_to_lab(rgb)
    assert np.abs(ours - rgb2lab(rgb[None] / 255.0)[0]).max() < 0.01
    assert np.abs(lab_to_srgb(ours) - rgb).max() < 0.01
    white, black = srgb_to_lab([[255, 255, 255], [0, 0, 0]])
    assert white == pytest.approx([100, 0, 0], abs=0.01)
    assert black == pytest.approx([0, 0, 0], abs=0.01)


def test_the_film_s_own_frames_score_high(anchor):
    for colour in ("red", "blue", "yellow"):  # one scene at a time is still the film
        frames = [picture(COLOURS[colour], i) for i in range(3, 90, 11)]
        assert anchor.score(frames) > 0.9 > STYLE.threshold
    assert anchor.score(film_frames(start=5)) > 0.95


def test_foreign_noise_scores_below_the_threshold_even_graded(anchor):
    noise = noise_frames()
    parts = anchor.score_parts(noise)
    assert parts.total < 0.2 < STYLE.threshold
    assert parts.colour < 0.05 and parts.grain < 0.2  # other colours, and it is all grain
    assert anchor.score(anchor.conform(noise)) < 0.3  # a grade nudges, it does not repaint


def test_conform_raises_the_score_of_off_palette_frames(anchor):
    drifted = cast(film_frames(start=3))
    before = anchor.score_parts(drifted)
    graded = anchor.conform(drifted)
    after = anchor.score_parts(graded)
    assert before.total < STYLE.threshold < after.total
    assert after.colour > before.colour + 0.3
    mean_before = srgb_to_lab(np.concatenate([f.reshape(-1, 3) for f in drifted])).mean(0)
    mean_after = srgb_to_lab(np.concatenate([f.reshape(-1, 3) for f in graded])).mean(0)
    assert np.linalg.norm(mean_after - anchor.mean) < np.linalg.norm(mean_before - anchor.mean)


def test_conform_leaves_frames_that_already_match_alone(anchor):
    frames = [picture(COLOURS["red"], i) for i in range(0, 40, 5)]
    conformer = anchor.conformer(frames)
    assert conformer.strength == 0  # the red scene is not dragged to the film's average
    assert all(np.array_equal(a, b) for a, b in zip(anchor.conform(frames), frames, strict=True))


def test_grain_is_added_to_the_declared_level_at_every_rendition_size():
    grainy = Anchor.from_frames(film_frames(), STYLE.model_copy(update={"grain": 0.5}))
    assert grainy.grain == pytest.approx(4.0)
    clean = [np.full((360, 640, 3), 128, np.uint8)] * 3
    assert grain_level(clean) == 0
    conformer = grainy.conformer(clean, seed=7)
    assert conformer.grain_std == pytest.approx(4.0)
    for h, w in ((360, 640), (720, 1280), (1080, 1920)):
        grained = [conformer(np.full((h, w, 3), 128, np.uint8), i) for i in range(3)]
        assert grain_level(grained) == pytest.approx(4.0, rel=0.05)
    before, after = grainy.score_parts(clean), grainy.score_parts(grainy.conform(clean))
    assert after.grain > 0.95 > 0.3 > before.grain


def test_grain_is_the_same_for_a_seed_and_changes_with_it():
    frame = np.full((360, 640, 3), 128, np.uint8)
    delta = identity_conformer().delta
    a, b, c = (Conformer(delta, 4.0, seed) for seed in (1, 1, 2))
    assert np.array_equal(a(frame, 3), b(frame, 3))
    assert not np.array_equal(a(frame, 3), c(frame, 3))
    assert not np.array_equal(a(frame, 3), a(frame, 4))  # grain moves from frame to frame


def test_strong_edges_are_not_grain():
    bars = np.zeros((360, 640, 3), np.uint8)
    bars[:, ::40] = 255  # sharp lines over flat ground
    assert grain_level([bars]) < 0.5


def test_statistics_are_taken_at_360_lines():
    big = np.zeros((720, 1280, 3), np.uint8)
    assert analysis_frame(big).shape == (360, 640, 3)
    small = np.zeros((64, 64, 3), np.uint8)
    assert analysis_frame(small) is small


def test_a_style_without_palette_weighs_colour_and_grain_only():
    plain = Anchor.from_frames(film_frames(), Style(references=["film/red"]))
    parts = plain.score_parts(film_frames(start=2))
    assert parts.palette is None and parts.total > 0.95
    assert plain.score(noise_frames()) < 0.2
