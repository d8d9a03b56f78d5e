"""The montage backend: a fill-in scene cut from the film's clips, played like any clip."""

from __future__ import annotations

import hashlib
import itertools

import numpy as np
import pytest

from genmodels.backend import GenerationError, StyleRejected, WorkerConfig
from genmodels.jobs import Job
from genmodels.montage import MontageBackend, render_card_clip
from genmodels.shots import CARD, Motion, plan_shots
from genmodels.style import srgb_to_lab
from mobile_bridge.film.source import Kind, open_clip
from mobile_bridge.media.library import MediaLibrary
from mobile_bridge.media.manifest import Manifest
from narrative.story import Style
from tests.genmodels.media_film import context, make_media
from tests.mobile_bridge.film.clips import colour_of
from tests.mobile_bridge.media_clips import decoded_audio, decoded_frames

STYLE = Style(
    references=["film/red", "film/blue", "film/yellow"],
    palette=["#dc1e1e", "#1e28dc", "#dcd21e", "#101010"],
    pacing_s=1.5,
)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return make_media(tmp_path_factory.mktemp("montage"), noise=("foreign/noise",))


def job(**fields):
    values = {"room": "ROOM", "scene": "bridge", "backend": "montage", "prompt": "the train"}
    values |= {"duration_s": 4.0, "seed": 11, "deadline": 0.0, "style": STYLE} | fields
    return Job(**values)


def run(media, made, log=None):
    return MontageBackend(WorkerConfig(media)).run(made, context(media, log))


def frames_of(media, media_id, rendition="360p"):
    return decoded_frames(MediaLibrary(media).rendition(media_id, rendition).path)


def hashes(frames):
    return [hashlib.sha256(f.tobytes()).hexdigest() for f in frames]


@pytest.fixture(scope="module")
def titled(media):
    made = job(title="Meanwhile, on the roof", renditions=("360p", "720p"), duration_s=5.0)
    log = []
    return made, run(media, made, log), log


def test_the_clip_is_in_every_rendition_and_plays_like_an_ingested_one(media, titled):
    made, output, _ = titled
    assert output.media == f"generated/{made.id}"
    entry = Manifest.load(media).media[output.media]
    assert entry.source.path == "generated:montage"
    for name, size in (("360p", (640, 360)), ("720p", (1280, 720))):
        info = MediaLibrary(media).rendition(output.media, name).info
        assert (info.width, info.height, info.audio) == (*size, True)
        assert abs(info.duration_s - 5.0) <= 2 / 30  # within two frames
        starts = [pts - info.keyframes[0][0] for pts, _ in info.keyframes]
        assert starts == pytest.approx([0, 1, 2, 3, 4], abs=1e-3)  # a keyframe every second
        clip = open_clip(MediaLibrary(media).rendition(output.media, name).path)
        gops = list(iter(clip.next_gop, []))
        clip.close()
        assert len(gops) == 5
        firsts = [next(p for p in g if p.kind is Kind.VIDEO) for g in gops]
        assert all(p.keyframe for p in firsts)  # each GOP opens on a keyframe
        assert sum(p.kind is Kind.VIDEO for g in gops for p in g) == 150
        assert len(frames_of(media, output.media, name)) == 150


def test_a_title_card_then_the_film_s_shots_with_crossfades(media, titled):
    _, output, _ = titled
    frames = frames_of(media, output.media)
    card = frames[15]
    assert srgb_to_lab(card[5, 5])[0] < 20  # light type on the palette's darkest colour
    bright_rows = np.flatnonzero((card.max(axis=2) > 180).sum(axis=1) > 2)
    assert bright_rows.size and bright_rows.max() - bright_rows.min() >= 20  # readable at 360p
    colours = [colour_of(f) for f in frames[70:]]
    assert set(colours) <= {"red", "blue", "yellow"} and len(set(colours)) >= 2
    cut = 2.0 + 1.5  # the card is 2 s, then a shot every 1.5 s
    before, at, after = (frames[round(t * 30)].astype(int) for t in (cut - 0.4, cut, cut + 0.4))
    lower = slice(250, 340)
    mixed = at[lower].mean(axis=(0, 1))
    ends = before[lower].mean(axis=(0, 1)), after[lower].mean(axis=(0, 1))
    assert np.linalg.norm(ends[0] - ends[1]) > 60  # two different shots ...
    assert all(np.linalg.norm(mixed - end) > 20 for end in ends)  # ... dissolving into each other


def test_the_shots_move(media, titled):
    _, output, _ = titled
    frames = frames_of(media, output.media)
    a, b = frames[80].astype(int), frames[84].astype(int)
    assert np.abs(a - b).mean() > 1


def test_the_sound_comes_from_the_film(media, titled):
    _, output, _ = titled
    sound, _ = decoded_audio(MediaLibrary(media).rendition(output.media, "360p").path)
    assert np.abs(sound[:, :48_000]).max() < 0.01  # silence under the title card
    assert np.abs(sound[:, 3 * 48_000 :]).max() > 0.1  # the source clips' tones after


def test_provenance_and_progress(titled):
    _made, output, log = titled
    p = output.provenance
    assert (p.backend, p.model, p.prompt, p.seed, p.duration_s, p.worker) == (
        "montage", "film-clips", "the train", 11, 5.0, "test",
    )  # fmt: skip
    assert set(p.timings) == {"decode", "style", "compose", "encode"}
    assert all(v >= 0 for v in p.timings.values())
    assert p.style_score is not None and p.style_score > STYLE.threshold
    fractions = [f for f, _ in log]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert [s for _, s in log][:3] == ["decode", "style", "encode"]


def test_a_seed_always_makes_the_same_clip_and_another_seed_another(media):
    first = run(media, job(seed=5, renditions=("360p",), duration_s=3.0))
    again = run(media, job(seed=5, renditions=("360p",), duration_s=3.0))
    other = run(media, job(seed=6, renditions=("360p",), duration_s=3.0))
    assert first.media != again.media  # one clip per job
    same = hashes(frames_of(media, first.media))
    assert same == hashes(frames_of(media, again.media))
    assert same != hashes(frames_of(media, other.media))


def test_foreign_footage_is_rejected_before_it_is_encoded(media):
    made = job(sources=("foreign/noise",), duration_s=3.0, renditions=("360p",))
    with pytest.raises(StyleRejected) as rejected:
        run(media, made)
    assert rejected.value.code == "style-rejected"
    assert rejected.value.score < STYLE.threshold
    assert rejected.value.provenance.style_score == pytest.approx(rejected.value.score, abs=1e-3)
    assert f"generated/{made.id}" not in Manifest.load(media).media
    assert not (media / "generated" / made.id).exists()


def test_sources_must_exist(media):
    with pytest.raises(GenerationError) as missing:
        run(media, job(sources=("film/red", "film/gone")))
    assert missing.value.code == "montage-no-sources" and "film/gone" in str(missing.value)
    with pytest.raises(GenerationError) as nothing:
        run(media, job(style=None))
    assert nothing.value.code == "montage-no-sources"


def test_without_a_style_the_sources_are_cut_as_they_are(media):
    output = run(media, job(style=None, sources=("film/blue",), duration_s=2.0))
    assert output.provenance.style_score is None
    assert {colour_of(f) for f in frames_of(media, output.media)} == {"blue"}


def test_a_title_without_sources_is_a_caption_card(media):
    made = job(style=None, title="Three days later", duration_s=2.0, renditions=("360p",))
    output = run(media, made)
    assert output.provenance.style_score is None and "encode" in output.provenance.timings
    frames = frames_of(media, output.media)
    assert len(frames) == 60
    assert srgb_to_lab(frames[30][5, 5])[0] < 20 and frames[30].max() > 200
    assert frames[0].max() < 40  # fading in from black


def test_render_card_clip_fits_long_text_on_the_card(media):
    text = "The conductor counts the tickets twice and still comes up one short. " * 3
    made = job(backend="text", duration_s=1.0, renditions=("360p",))
    card = render_card_clip(made, context(media), text, start=0.5)
    assert card.media == f"generated/{made.id}" and set(card.timings) == {"compose", "encode"}
    assert Manifest.load(media).media[card.media].source.path == "generated:text"
    frame = frames_of(media, card.media)[15]
    inked = np.flatnonzero((frame.max(axis=2) > 150).sum(axis=0))
    assert inked.min() > 640 * 0.03 and inked.max() < 640 * 0.97  # wrapped inside the card


def test_shot_plans_are_pure_and_stay_inside_their_sources():
    plan = plan_shots(10.0, [6.0, 3.0, 20.0], pacing_s=2.5, seed=3, card_s=2.0)
    assert plan == plan_shots(10.0, [6.0, 3.0, 20.0], pacing_s=2.5, seed=3, card_s=2.0)
    assert plan != plan_shots(10.0, [6.0, 3.0, 20.0], pacing_s=2.5, seed=4, card_s=2.0)
    assert plan[0].source == CARD and plan[0].start_s == 0
    shots = plan[1:]
    assert len(shots) == 3 and shots[-1].end_s == 10.0
    for a, b in itertools.pairwise(plan):
        assert b.start_s < a.end_s  # a crossfade at every cut
        assert a.source != b.source or a.source == CARD
    durations = [6.0, 3.0, 20.0]
    for shot in shots:
        length = shot.end_s - shot.start_s
        assert shot.source_start_s >= 0
        if durations[shot.source] >= length:
            assert shot.source_start_s + length <= durations[shot.source]
        for u in (0.0, 0.5, 1.0):
            left, top, right, bottom = shot.motion.box(u, (640, 360), 16 / 9)
            assert 0 <= left < right <= 640.001 and 0 <= top < bottom <= 360.001
            assert (right - left) / (bottom - top) == pytest.approx(16 / 9)
    square = Motion((1.0, 1.2), (0.0, 1.0), (0.5, 0.5)).box(0.0, (512, 512), 16 / 9)
    assert square == pytest.approx((0, 112, 512, 400))  # a 16:9 crop of a square still
