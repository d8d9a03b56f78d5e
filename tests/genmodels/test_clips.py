"""Clips in the media folder: frames and sound read back, generated clips written to play."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from genmodels.anchors import load_anchor
from genmodels.backend import GenerationError
from genmodels.clips import (
    FrameReader,
    find_media,
    manifest_lock,
    read_audio,
    read_frames,
    write_clip,
)
from genmodels.jobs import Job
from mobile_bridge.film.source import Kind, open_clip
from mobile_bridge.media.library import MediaLibrary
from mobile_bridge.media.manifest import Manifest, MediaEntry, Source
from narrative.story import Style
from tests.genmodels.media_film import make_media
from tests.mobile_bridge.film.clips import bar_x, colour_of
from tests.mobile_bridge.media_clips import decoded_frames, nal_types


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return make_media(tmp_path_factory.mktemp("clips"), seconds=3.0, renditions="360p,720p")


def job(**fields):
    values = {"room": "ROOM", "scene": "s", "backend": "montage", "prompt": "p"}
    values |= {"duration_s": 1.0, "seed": 1, "deadline": 0.0} | fields
    return Job(**values)


def gradient(width, height, n):
    frame = np.zeros((height, width, 3), np.uint8)
    frame[..., 0] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
    frame[..., 2] = (n * 8) % 256
    return frame


def test_frames_at_chosen_times_are_the_frames_shown_then(media):
    path = find_media(media, "film/red", 640).path
    every = decoded_frames(path)
    times = [2.5, 0.5, 0.5, 2.9, 1.0 / 30 * 7, 0.0]  # backwards and forwards, across GOPs
    frames = read_frames(media, "film/red", times_s=times, width=640)
    for t, frame in zip(times, frames, strict=True):
        assert np.array_equal(frame, every[round(t * 30)])
        assert colour_of(frame) == "red"
    # The bar moves 4 px a frame at 320 wide: 8 px in the 640-wide rendition.
    assert bar_x(frames[4]) == pytest.approx(7 * 8, abs=2)


def test_even_sampling_and_holding_the_last_frame(media):
    frames = read_frames(media, "film/blue", count=3, width=640)
    every = decoded_frames(find_media(media, "film/blue", 640).path)
    assert [f.shape for f in frames] == [(360, 640, 3)] * 3
    assert np.array_equal(frames[1], every[45])  # the middle of the middle third
    with FrameReader(find_media(media, "film/blue", 640)) as reader:
        assert np.array_equal(reader.frame_at(99.0), every[-1])
        assert reader.decode_s > 0


def test_the_rendition_read_is_the_narrowest_wide_enough(media):
    assert find_media(media, "film/red", 640).rendition == "360p"
    assert find_media(media, "film/red", 641).rendition == "720p"
    assert find_media(media, "film/red", 4000).rendition == "720p"  # else the widest
    assert find_media(media, "film/red").rendition == "720p"
    with pytest.raises(GenerationError) as missing:
        find_media(media, "film/nothing")
    assert missing.value.code == "clip-missing"


def test_the_sound_of_a_clip(media):
    sound = read_audio(media, "film/red")  # a 300 Hz tone
    assert sound.shape[0] == 2 and sound.dtype == np.float32
    assert sound.shape[1] == pytest.approx(3 * 48_000, abs=0.15 * 48_000)  # + codec delay
    second = sound[0, 4800:52800]  # one second: FFT bins 1 Hz apart
    assert np.argmax(np.abs(np.fft.rfft(second))) == pytest.approx(300, abs=2)


def test_a_written_clip_plays_like_an_ingested_one(media):
    made = job(duration_s=2.0, renditions=("360p", "720p"))
    sizes = [(640, 360), (1280, 720)]
    frames = ([gradient(w, h, n) for w, h in sizes] for n in range(60))
    tone = np.sin(np.arange(96_000) / 48_000 * 2 * np.pi * 440).astype(np.float32)
    media_id = write_clip(made, media, frames, np.stack([tone, tone]) * 0.3, backend="montage")
    assert media_id == f"generated/{made.id}"
    entry = Manifest.load(media).media[media_id]
    assert entry.source.path == "generated:montage"
    assert set(entry.renditions) == {"360p", "720p"}
    library = MediaLibrary(media)
    for name, (w, h) in zip(("360p", "720p"), sizes, strict=True):
        info = library.rendition(media_id, name).info
        assert (info.width, info.height, info.fps, info.audio) == (w, h, 30.0, True)
        assert info.duration_s == pytest.approx(2.0, abs=2 / 30)
        assert [round(pts - info.keyframes[0][0], 3) for pts, _ in info.keyframes] == [0.0, 1.0]
        clip = open_clip(library.rendition(media_id, name).path)
        packets = [p for gop in iter(clip.next_gop, []) for p in gop]
        clip.close()
        video = [p for p in packets if p.kind is Kind.VIDEO]
        audio = [p for p in packets if p.kind is Kind.AUDIO]
        assert len(video) == 60
        for packet in (p for p in video if p.keyframe):
            types = nal_types(packet.data)
            assert types.index(7) < types.index(8) < types.index(5)  # SPS, PPS, IDR
        steps = np.diff([p.pts_s for p in audio])
        assert np.allclose(steps, 0.06, atol=1e-3)  # Opus in 60 ms frames
        assert len(audio) * 0.06 == pytest.approx(2.0, abs=0.07)
        decoded = decoded_frames(library.rendition(media_id, name).path)
        assert np.abs(decoded[30].astype(int) - gradient(w, h, 30)).mean() < 4


def test_a_clip_without_sound_gets_a_silent_track(media):
    made = job(duration_s=1.0, renditions=("360p",))
    frames = ([gradient(640, 360, n)] for n in range(30))
    media_id = write_clip(made, media, frames, np.zeros((2, 0), np.float32), backend="text")
    info = MediaLibrary(media).rendition(media_id, "360p").info
    assert info.audio
    assert Manifest.load(media).media[media_id].source.path == "generated:text"


def test_bad_jobs_name_no_file(media):
    with pytest.raises(GenerationError) as bad:
        write_clip(job(id="../up"), media, [], np.zeros((2, 0), np.float32), backend="x")
    assert bad.value.code == "clip-bad-job"
    with pytest.raises(GenerationError) as bad:
        write_clip(job(renditions=("4k",)), media, [], np.zeros((2, 0), np.float32), backend="x")
    assert bad.value.code == "clip-bad-job"


def test_the_manifest_update_waits_for_the_lock_and_keeps_what_others_wrote(media):
    """Another process's read-modify-write holds the lock: ours waits and keeps its entry."""
    made = job(duration_s=1.0, renditions=("360p",))
    other = MediaEntry(source=Source(path="elsewhere", size=0, sha256="0"), duration_s=1.0)
    finished = threading.Event()

    def write():
        frames = ([gradient(640, 360, n)] for n in range(30))
        write_clip(made, media, frames, np.zeros((2, 0), np.float32), backend="montage")
        finished.set()

    with manifest_lock(media):
        before = Manifest.load(media)
        writer = threading.Thread(target=write)
        writer.start()
        assert not finished.wait(1.0)  # encoded, then blocked on the lock
        before.with_entry("other/entry", other).save(media)
    writer.join(10)
    assert finished.is_set()
    assert {"other/entry", f"generated/{made.id}"} <= set(Manifest.load(media).media)


def test_anchor_from_the_reference_clips_is_cached(media):
    style = Style(references=["film/red", "film/blue"], palette=["#dc1e1e", "#1e28dc"])
    anchor = load_anchor(style, media)
    assert load_anchor(style, media) is anchor
    assert anchor.score(read_frames(media, "film/blue", count=4)) > 0.9
    assert anchor.score(read_frames(media, "film/yellow", count=4)) < 0.7  # not in this film
    with pytest.raises(GenerationError) as missing:
        load_anchor(Style(references=["film/gone"]), media)
    assert missing.value.code == "style-missing-reference"
