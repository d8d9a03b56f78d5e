"""The film's language measured from real clips: the demo film's and clips cut to order."""

from __future__ import annotations

import pytest

from mobile_bridge.demo_film import generate_demo_film
from mobile_bridge.media.renditions import RENDITIONS
from narrative.validate import load_story
from server.recommend.library import profile_of
from server.recommend.measures import load_measures, measure_media
from tests.server.recommend.clips import ingest

MINI = """\
kinoroom: 1
title: Mini Film
start: hall
about: {genre: [mystery], themes: [a lost key], tags: [night]}
scenes:
  hall: {media: mini/hall, duration: 8, next: garden}
  garden: {media: mini/garden, duration: 6, ending: true}
"""


@pytest.fixture(scope="module")
def demo_media(tmp_path_factory):
    media = tmp_path_factory.mktemp("demo") / "media"
    generate_demo_film(load_story(MINI, "mini.yaml"), media, (RENDITIONS["360p"],), jobs=1)
    return media


def test_the_demo_film_is_measured_once_from_its_own_clips(demo_media):
    first = measure_media(demo_media)
    assert [(r.media_id, r.status) for r in first] == [
        ("mini/hall", "measured"), ("mini/garden", "measured"),
    ]  # fmt: skip
    assert [r.status for r in measure_media(demo_media)] == ["current", "current"]
    measures = load_measures(demo_media)
    hall, garden = measures["mini/hall"], measures["mini/garden"]
    # The demo clip is a title card (a quarter of the scene, at most 2.5 s), then the
    # moving picture: exactly one cut, where the card ends.
    assert hall.cuts == (pytest.approx(2.0, abs=0.05),)
    assert garden.cuts == (pytest.approx(1.5, abs=0.05),)
    assert hall.duration_s == pytest.approx(8.0, abs=0.05)
    assert hall.shot_s == pytest.approx(4.0, abs=0.05)
    # Its music bed is an arpeggio of half-second notes: 120 beats a minute.
    assert hall.tempo_bpm == pytest.approx(120, abs=3)
    assert garden.tempo_bpm == pytest.approx(120, abs=3)
    assert -30 < hall.loudness_lufs < -12
    assert hall.motion > 0.3  # the colour wave and the boxes move every frame
    # Every scene has its own hue: the two clips' colours differ.
    assert abs(hall.warmth - garden.warmth) > 10


def test_a_story_profile_carries_its_clips_structure_and_words(demo_media):
    measure_media(demo_media)
    profile = profile_of(7, "d", MINI, load_measures(demo_media))
    assert profile.measured
    assert profile.values["shot_s"] == pytest.approx((8 * 4 + 6 * 3) / 14, abs=0.1)
    assert profile.values["tempo_bpm"] == pytest.approx(120, abs=3)
    assert profile.values["length_min"] == pytest.approx(14 / 60, abs=0.02)
    assert profile.values["choices"] == 0 and profile.values["endings"] == 1
    assert profile.words == {"mystery", "a lost key", "night"}


def test_cuts_tempo_and_loudness_follow_the_footage(tmp_path):
    media = ingest(
        tmp_path / "media",
        {
            "cut/fast": {"shot_s": 0.8, "bpm": 150, "gain": 0.5},
            "cut/slow": {"shot_s": 3.0, "bpm": 90, "gain": 0.05},
        },
    )
    measure_media(media)
    fast, slow = load_measures(media)["cut/fast"], load_measures(media)["cut/slow"]
    assert fast.shots == 8 and fast.shot_s == pytest.approx(0.75, abs=0.1)
    assert slow.shots == 2 and slow.shot_s == pytest.approx(3.0, abs=0.1)
    assert fast.tempo_bpm == pytest.approx(150, rel=0.05)
    assert slow.tempo_bpm == pytest.approx(90, rel=0.05)
    assert fast.loudness_lufs - slow.loudness_lufs == pytest.approx(20, abs=2)  # 10x gain
    assert fast.motion == pytest.approx(0, abs=0.5)  # solid colours: nothing moves in a shot
