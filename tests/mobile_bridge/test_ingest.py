"""Ingest: clips become conforming stream renditions once; bad clips are named, not fatal."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import av
import pytest

from mobile_bridge.media.clipnames import match_clip, match_clips, story_media_ids
from mobile_bridge.media.errors import IngestError, UnknownRendition
from mobile_bridge.media.ingest import ingest_clips
from mobile_bridge.media.manifest import Manifest
from mobile_bridge.media.renditions import (
    AUDIO_FRAME_SAMPLES,
    RENDITIONS,
    output_fps,
    parse_renditions,
)
from narrative.stories import DEMO
from narrative.validate import load_story
from tests.mobile_bridge.media_clips import decoded_audio, make_clip, nal_types

P360 = (RENDITIONS["360p"],)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    """One H.264 + AAC MP4 (3 s, 4:3, 25 fps) ingested at 360p."""
    root = tmp_path_factory.mktemp("ingest")
    clip = make_clip(root / "01-platform.mp4", seconds=3.0)
    media = root / "media"
    [result] = ingest_clips([str(clip)], ["demo/01-platform"], media, P360)
    return result, media, clip


def test_an_mp4_with_h264_and_aac_becomes_a_ts_with_opus(ingested):
    result, media, _ = ingested
    assert (result.status, result.media_id, result.encoded) == (
        "encoded",
        "demo/01-platform",
        ("360p",),
    )
    out = media / "demo" / "01-platform" / "360p.ts"
    with av.open(str(out)) as c:
        assert c.format.name == "mpegts"
        assert [s.codec_context.name for s in c.streams] == ["h264", "opus"]
        video, audio = c.streams.video[0], c.streams.audio[0]
        assert video.codec_context.profile == "Constrained Baseline"
        assert video.codec_context.has_b_frames == 0
        assert (video.codec_context.width, video.codec_context.height) == (640, 360)
        assert audio.codec_context.sample_rate == 48_000
        assert audio.codec_context.channels == 2


def test_keyframe_every_second_with_sps_pps_in_front_and_no_b_frames(ingested):
    _, media, _ = ingested
    out = media / "demo" / "01-platform" / "360p.ts"
    keyframes, frames, pts = [], 0, []
    with av.open(str(out)) as c:
        for packet in c.demux(video=0):
            if packet.size == 0:
                continue
            types = nal_types(bytes(packet))
            assert 3 not in types  # no data partitioning (not baseline)
            if packet.is_keyframe:
                keyframes.append(frames)
                assert 5 in types
                idr = types.index(5)
                assert 7 in types[:idr] and 8 in types[:idr], types
            else:
                assert 5 not in types
            pts.append(packet.pts)
            frames += 1
    assert frames == 75  # 3 s at the source's 25 fps
    assert keyframes == [0, 25, 50]  # the GOP is one second of frames
    assert pts == sorted(pts)  # decode order is display order: no B-frames


def test_opus_frames_are_60_ms_and_the_duration_is_right(ingested):
    _, media, _ = ingested
    out = media / "demo" / "01-platform" / "360p.ts"
    with av.open(str(out)) as c:
        durations = {float(p.duration * p.time_base) for p in c.demux(audio=0) if p.size}
    assert durations == {0.06}
    sound, sizes = decoded_audio(out)
    assert set(sizes[:-1]) == {AUDIO_FRAME_SAMPLES} == {2880}
    assert abs(sound.shape[1] / 48_000 - 3.0) < 0.1
    assert abs(sound).max() > 0.1  # the tone made it through AAC → Opus


def test_the_manifest_records_checksums_and_a_seekable_keyframe_index(ingested):
    _, media, clip = ingested
    entry = Manifest.load(media).media["demo/01-platform"]
    assert entry.source.size == clip.stat().st_size
    assert entry.duration_s == pytest.approx(3.0)
    r = entry.renditions["360p"]
    assert (r.path, r.width, r.height, r.fps, r.audio) == (
        "demo/01-platform/360p.ts",
        640,
        360,
        25.0,
        True,
    )
    assert r.duration_s == pytest.approx(3.0)
    times = [pts for pts, _ in r.keyframes]
    assert [round(b - a, 3) for a, b in itertools.pairwise(times)] == [1.0, 1.0]
    data = (media / r.path).read_bytes()
    assert r.size == len(data)
    for _, offset in r.keyframes:
        assert offset % 188 == 0 and data[offset] == 0x47  # a TS packet starts there


def test_reingest_skips_an_unchanged_clip(ingested):
    _, media, clip = ingested
    out = media / "demo" / "01-platform" / "360p.ts"
    before = out.stat().st_mtime_ns
    [result] = ingest_clips([str(clip)], ["demo/01-platform"], media, P360)
    assert (result.status, result.encoded) == ("skipped", ())
    assert out.stat().st_mtime_ns == before


def test_a_changed_source_or_a_damaged_output_is_encoded_again(tmp_path):
    clip = make_clip(tmp_path / "intro.mp4", seconds=1.0, audio=False)
    media = tmp_path / "media"
    [first] = ingest_clips([str(clip)], ["intro"], media, P360)
    assert first.status == "encoded"
    assert Manifest.load(media).media["intro"].renditions["360p"].audio is False
    make_clip(clip, seconds=1.0, audio=False, shade=100)  # new content, same name
    [second] = ingest_clips([str(clip)], ["intro"], media, P360)
    assert second.status == "encoded"
    out = media / "intro" / "360p.ts"
    out.write_bytes(out.read_bytes()[:1000])  # a damaged rendition file
    [third] = ingest_clips([str(clip)], ["intro"], media, P360)
    assert third.status == "encoded"
    # A rendition not made before is added; the one that is current is kept.
    [fourth] = ingest_clips([str(clip)], ["intro"], media, (RENDITIONS["360p"], RENDITIONS["720p"]))
    assert fourth.encoded == ("720p",)
    assert set(Manifest.load(media).media["intro"].renditions) == {"360p", "720p"}


def test_a_fast_source_is_capped_at_30_fps_and_letterboxed(tmp_path):
    clip = make_clip(tmp_path / "fast.mkv", seconds=1.0, fps=60, size=(320, 320), audio=False)
    media = tmp_path / "media"
    [result] = ingest_clips([f"fast={clip}"], [], media, P360)
    assert result.status == "encoded", result.error
    r = Manifest.load(media).media["fast"].renditions["360p"]
    assert (r.fps, r.width, r.height) == (30.0, 640, 360)
    assert r.duration_s == pytest.approx(1.0)
    assert output_fps(None) == 30 and output_fps(av.VideoFrame(2, 2).time_base) == 30


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[str, str]]:
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "notes.mp4").write_text("this is not a film\n" * 50)
    make_clip(tmp_path / "song.m4a", video=False, seconds=1.0, container="mp4")
    (tmp_path / "folder.mp4").mkdir()
    return {
        "missing": (str(tmp_path / "missing.mp4"), "ingest-unreadable"),
        "empty": (str(tmp_path / "empty.mp4"), "ingest-empty"),
        "notes": (str(tmp_path / "notes.mp4"), "ingest-not-media"),
        "song": (str(tmp_path / "song.m4a"), "ingest-no-video"),
        "folder": (str(tmp_path / "folder.mp4"), "ingest-unreadable"),
    }


def test_each_bad_input_is_named_with_its_code_and_the_good_clip_still_goes_in(tmp_path):
    bad = _bad_inputs(tmp_path)
    good = make_clip(tmp_path / "good.mp4", seconds=1.0)
    args = [bad["missing"][0], bad["empty"][0], bad["notes"][0], str(good)]
    args += [bad["song"][0], bad["folder"][0]]
    ids = ["missing", "empty", "notes", "good", "song", "folder"]
    results = ingest_clips(args, ids, tmp_path / "media", P360)
    by_path = {r.path: r for r in results}
    assert by_path[str(good)].status == "encoded"
    for path, code in bad.values():
        result = by_path[path]
        assert result.status == "failed"
        assert result.error is not None and result.error.code == code
        assert path in str(result.error)  # the message names the file
    assert set(Manifest.load(tmp_path / "media").media) == {"good"}


def test_if_ingest_is_cut_short_no_partial_file_is_left(tmp_path):
    clip = tmp_path / "torn.mp4"
    make_clip(clip, seconds=2.0)
    data = clip.read_bytes()
    clip.write_bytes(data[: len(data) // 3])  # an MP4 cut off before its index
    results = ingest_clips([str(clip)], ["torn"], tmp_path / "media", P360)
    assert results[0].status == "failed"
    assert results[0].error is not None and results[0].error.code.startswith("ingest-")
    assert not list((tmp_path / "media").rglob("*.part"))


# --- which media id a clip is for -------------------------------------------------------

IDS = ["demo/01-platform", "demo/05-dining-car", "demo/05-dining-car-fast", "a/intro", "b/intro"]


@pytest.mark.parametrize(
    ("arg", "media_id"),
    [
        ("clips/01-platform.mp4", "demo/01-platform"),
        ("01-platform.mkv", "demo/01-platform"),
        ("shots/05-dining-car-fast.mov", "demo/05-dining-car-fast"),
        ("cuts/b/intro.mp4", "b/intro"),
        ("demo/05-dining-car=take3.mkv", "demo/05-dining-car"),
        ("extra/credits=x.mp4", "extra/credits"),
    ],
)
def test_a_clip_is_matched_to_a_media_id_by_name_or_explicitly(arg, media_id):
    assert match_clip(arg, IDS).media_id == media_id


@pytest.mark.parametrize(
    ("arg", "code"),
    [
        ("clips/unknown.mp4", "ingest-no-match"),
        ("clips/intro.mp4", "ingest-ambiguous"),
        ("../up=x.mp4", "ingest-bad-id"),
    ],
)
def test_a_clip_that_fits_no_single_media_id_is_refused(arg, code):
    with pytest.raises(IngestError) as info:
        match_clip(arg, IDS)
    assert info.value.code == code


def test_two_clips_for_one_media_id_are_refused():
    first, second = match_clips(["x/01-platform.mp4", "y/01-platform.mkv"], IDS)
    assert not isinstance(first, IngestError)
    assert isinstance(second, IngestError) and second.code == "ingest-duplicate"


def test_the_demo_story_names_every_scene_and_variant_media():
    ids = story_media_ids(load_story(DEMO.read_text(), str(DEMO)))
    assert len(ids) == 15
    assert "demo/05-dining-car-fast" in ids and "demo/11-arrival-confession" in ids


def test_rendition_names_are_checked():
    assert [r.name for r in parse_renditions("720p, 360p,720p")] == ["720p", "360p"]
    with pytest.raises(UnknownRendition) as info:
        parse_renditions("360p,4k")
    assert info.value.code == "unknown-rendition"


def test_ingest_runs_without_a_terminal(tmp_path, capsys):
    from mobile_bridge.media.progress import ProgressBar

    clip = make_clip(tmp_path / "x.mp4", seconds=1.0, audio=False)
    [result] = ingest_clips([f"x={clip}"], [], tmp_path / "m", P360, progress=ProgressBar)
    assert result.status == "encoded"
    err = capsys.readouterr().err
    assert "\r" not in err and "x: 360p in" in err
    assert os.path.exists(tmp_path / "m" / "manifest.json")
