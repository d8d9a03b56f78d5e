"""Appraisal: classes land on the circumplex, blendshapes refine, a turned head disengages."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from affect.appraisal import (
    CIRCUMPLEX,
    CLASSES,
    appraise,
    engagement,
    from_blendshapes,
    from_expressions,
    head_pose,
)
from affect.errors import SampleError


def one_hot(name):
    return [1.0 if c == name else 0.0 for c in CLASSES]


def rotation(yaw=0.0, pitch=0.0, roll=0.0, scale=1.0):
    y, p, r = (math.radians(a) for a in (yaw, pitch, roll))
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    m = np.eye(4)
    m[:3, :3] = rz @ ry @ rx * scale
    m[:3, 3] = (1.0, 2.0, -40.0)
    return m


@pytest.mark.parametrize("name", CLASSES)
def test_a_certain_class_sits_at_its_circumplex_point(name):
    assert from_expressions(one_hot(name)) == pytest.approx(CIRCUMPLEX[name])


def test_happy_is_pleasant_and_sad_unpleasant_and_calm():
    assert from_expressions(one_hot("happy"))[0] > 0.5
    valence, arousal = from_expressions(one_hot("sad"))
    assert valence < -0.5 and arousal < 0


def test_mixed_probabilities_blend_between_the_points():
    mixed = [0.0, 0.0, 0.0, 0.6, 0.0, 0.0, 0.4]
    assert from_expressions(mixed) == pytest.approx((0.6 * 0.81, 0.6 * 0.51))


@given(st.lists(st.floats(0, 1), min_size=7, max_size=7).filter(lambda p: sum(p) > 1e-6))
def test_any_probabilities_stay_on_the_scale(p):
    v, a = from_expressions(p)
    assert -1 <= v <= 1 and -1 <= a <= 1


def test_malformed_probabilities_are_refused():
    for bad in ([0.5] * 6, [0.0] * 7, [float("nan"), *[0.1] * 6], [-1.0, *[0.5] * 6]):
        with pytest.raises(SampleError):
            from_expressions(bad)


def test_blendshapes_a_smile_pleases_a_frown_displeases_an_open_mouth_excites():
    smile = from_blendshapes({"mouthSmileLeft": 0.9, "mouthSmileRight": 0.9})
    frown = from_blendshapes({"mouthFrownLeft": 0.8, "mouthFrownRight": 0.8, "browDownLeft": 0.7,
                              "browDownRight": 0.7})  # fmt: skip
    gasp = from_blendshapes({"jawOpen": 0.8, "eyeWideLeft": 0.7, "eyeWideRight": 0.7})
    rest = from_blendshapes({})
    assert smile[0] > 0.5 > rest[0] == 0.0 > frown[0]
    assert gasp[1] > 0.5 > rest[1]


@given(st.dictionaries(st.sampled_from(["mouthSmileLeft", "jawOpen", "browDownLeft",
                                        "eyeWideRight", "noseSneerLeft", "bogus"]),
                       st.floats(allow_nan=True, allow_infinity=True)))  # fmt: skip
def test_any_blendshape_scores_stay_on_the_scale(scores):
    v, a = from_blendshapes(scores)
    assert -1 <= v <= 1 and -1 <= a <= 1
    assert 0 <= engagement(None, scores) <= 1


@pytest.mark.parametrize(("yaw", "pitch", "roll"), [(0, 0, 0), (30, 0, 0), (-20, 10, 5),
                                                    (0, -25, 0), (10, 20, -30)])  # fmt: skip
def test_head_pose_reads_back_the_angles(yaw, pitch, roll):
    pose = head_pose(rotation(yaw, pitch, roll, scale=1.7))
    assert (pose.yaw, pose.pitch, pose.roll) == pytest.approx((yaw, pitch, roll), abs=1e-6)


def test_head_pose_refuses_a_degenerate_matrix():
    with pytest.raises(SampleError):
        head_pose(np.zeros((4, 4)))
    with pytest.raises(SampleError):
        head_pose(np.eye(3))


def test_engagement_falls_as_the_head_or_the_eyes_turn_away_or_close():
    facing = head_pose(rotation())
    assert engagement(facing, {}) == 1.0
    assert engagement(head_pose(rotation(yaw=30)), {}) == pytest.approx(0.5)
    assert engagement(head_pose(rotation(yaw=60)), {}) == 0.0
    assert engagement(facing, {"eyeLookOutLeft": 0.9, "eyeLookInRight": 0.9}) == 0.0
    assert engagement(facing, {"eyeLookDownLeft": 0.5, "eyeLookDownRight": 0.5}) == 1.0
    assert engagement(facing, {"eyeBlinkLeft": 0.95, "eyeBlinkRight": 0.95}) == 0.0


def test_appraise_blends_both_readings_and_names_the_top_class():
    smile = {"mouthSmileLeft": 0.9, "mouthSmileRight": 0.9}
    both = appraise([0.0, 0.0, 0.0, 0.9, 0.0, 0.0, 0.1], smile, rotation())
    alone = appraise(None, smile, None)
    assert both.top_class == "happy" and both.top_probability == pytest.approx(0.9)
    assert both.valence > 0.5 and alone.valence > 0.5
    assert alone.top_class is None and alone.pose is None
    assert both.engagement == 1.0
