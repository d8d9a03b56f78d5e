"""The demo film: every media id of a story gets a real clip that looks and sounds its own."""

from __future__ import annotations

import av
import numpy as np
import pytest

from mobile_bridge.demo_film import demo_clips, generate_demo_film, music_bed
from mobile_bridge.media.clipnames import story_media_ids
from mobile_bridge.media.manifest import Manifest
from mobile_bridge.media.renditions import RENDITIONS
from narrative.stories import DEMO
from narrative.validate import load_story
from server.medialib import media_finder
from tests.mobile_bridge.media_clips import decoded_audio, decoded_frames

MINI = """\
kinoroom: 1
title: Mini Film
start: hall
scenes:
  hall:
    media: mini/hall
    duration: 2
    next: garden
  garden:
    media: mini/garden
    duration: 2.5
    ending: true
    variants:
      - when: "true"
        media: mini/garden-night
"""


@pytest.fixture(scope="module")
def film(tmp_path_factory):
    media = tmp_path_factory.mktemp("film")
    story = load_story(MINI, "mini.yaml")
    results = generate_demo_film(story, media, (RENDITIONS["360p"],), jobs=1)
    return story, media, results


def _frames(media, media_id):
    return decoded_frames(media / media_id / "360p.ts")


def test_every_media_id_gets_a_clip_of_its_scene_s_length(film):
    story, media, results = film
    assert [(r.media_id, r.status) for r in results] == [
        ("mini/hall", "encoded"),
        ("mini/garden", "encoded"),
        ("mini/garden-night", "encoded"),
    ]
    manifest = Manifest.load(media)
    for media_id, seconds in [("mini/hall", 2.0), ("mini/garden", 2.5), ("mini/garden-night", 2.5)]:
        entry = manifest.media[media_id]
        assert entry.source.path == "generated:demo@1"
        assert entry.renditions["360p"].duration_s == pytest.approx(seconds)
        assert len(_frames(media, media_id)) == round(seconds * 30)
    assert all(media_finder(media)(m) for m in story_media_ids(story))


def test_a_title_card_then_a_moving_picture(film):
    _, media, _ = film
    frames = _frames(media, "mini/hall")
    card, moving_a, moving_b = frames[5], frames[40], frames[55]
    assert card.mean() < 40  # light text on a dark card
    assert np.abs(card.astype(int) - moving_a.astype(int)).mean() > 20
    assert np.abs(moving_a.astype(int) - moving_b.astype(int)).mean() > 5  # it moves


def test_scenes_look_different(film):
    _, media, _ = film
    colours = [
        _frames(media, m)[-1][100:300].reshape(-1, 3).mean(axis=0)
        for m in ("mini/hall", "mini/garden", "mini/garden-night")
    ]
    for i in range(3):
        for j in range(i + 1, 3):
            assert np.abs(colours[i] - colours[j]).max() > 20, (i, j, colours)


def test_each_clip_has_its_own_music(film):
    _, media, _ = film
    pitches = []
    for media_id in ("mini/hall", "mini/garden"):
        sound, sizes = decoded_audio(media / media_id / "360p.ts")
        assert set(sizes[:-1]) == {2880}
        first_note = sound[0, 480:24_000]  # 10–500 ms: the first note of the arpeggio
        assert np.sqrt((first_note**2).mean()) > 0.02
        spectrum = np.abs(np.fft.rfft(first_note))
        pitches.append(np.argmax(spectrum) * 48_000 / len(first_note))
    assert abs(pitches[0] - pitches[1]) > 10, pitches


def test_a_second_run_skips_every_clip(film):
    story, media, _ = film
    before = (media / "mini" / "hall" / "360p.ts").stat().st_mtime_ns
    again = generate_demo_film(story, media, (RENDITIONS["360p"],), jobs=1)
    assert {r.status for r in again} == {"skipped"}
    assert (media / "mini" / "hall" / "360p.ts").stat().st_mtime_ns == before


def test_the_demo_story_gets_a_clip_per_media_id_with_variant_names():
    story = load_story(DEMO.read_text(), str(DEMO))
    clips = demo_clips(story)
    assert [c.media_id for c in clips] == story_media_ids(story)
    labels = {c.media_id: c.label for c in clips}
    assert labels["demo/05-dining-car"] == "dining car"
    assert labels["demo/05-dining-car-fast"] == "dining car · fast"
    assert labels["demo/11-arrival-confession"] == "arrival · confession"
    assert sum(c.duration_s for c in clips) == pytest.approx(610)
    assert len({c.index for c in clips}) == len(clips)


def test_music_bed_is_stereo_and_quiet_enough():
    clip = demo_clips(load_story(MINI, "mini.yaml"))[0]
    sound = music_bed(clip)
    assert sound.shape == (2, 96_000)
    assert 0.05 < np.abs(sound).max() <= 1.0
    assert av.AudioFrame.from_ndarray(sound[:, :2880].copy(), format="fltp", layout="stereo")
