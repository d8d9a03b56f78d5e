"""The media manifest and the lookups built on it (validator, film track)."""

from __future__ import annotations

import pytest

from mobile_bridge.media.errors import ManifestError, MediaNotFound
from mobile_bridge.media.library import MediaLibrary
from mobile_bridge.media.manifest import (
    MANIFEST_NAME,
    Manifest,
    MediaEntry,
    RenditionFile,
    Source,
    rendition_is_current,
)
from server.medialib import media_finder, media_paths


def _entry(media_id: str, data: bytes, sha: str = "f" * 64) -> MediaEntry:
    return MediaEntry(
        source=Source(path=f"clips/{media_id}.mp4", size=10, sha256="a" * 64),
        duration_s=3.0,
        renditions={
            "360p": RenditionFile(
                path=f"{media_id}/360p.ts",
                profile="p1",
                width=640,
                height=360,
                fps=30.0,
                video_kbps=700,
                audio=True,
                sha256=sha,
                size=len(data),
                duration_s=3.0,
                keyframes=[(1.4, 0), (2.4, 18800), (3.4, 37600)],
            )
        },
    )


@pytest.fixture
def media(tmp_path):
    """A media folder with `demo/a` on disk and `demo/gone` only in the manifest."""
    import hashlib

    data = b"\x47" + bytes(187)
    (tmp_path / "demo" / "a").mkdir(parents=True)
    (tmp_path / "demo" / "a" / "360p.ts").write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    manifest = Manifest().with_entry("demo/a", _entry("demo/a", data, sha))
    manifest.with_entry("demo/gone", _entry("demo/gone", data)).save(tmp_path)
    return tmp_path


def test_the_manifest_round_trips(media):
    loaded = Manifest.load(media)
    assert loaded.version == 1
    assert set(loaded.media) == {"demo/a", "demo/gone"}
    assert loaded.media["demo/a"].renditions["360p"].keyframes[1] == (2.4, 18800)
    loaded.save(media)
    assert Manifest.load(media) == loaded
    assert not [p for p in media.iterdir() if p.name.startswith(".manifest-")]  # no temp left


def test_no_manifest_is_an_empty_one(tmp_path):
    assert Manifest.load(tmp_path / "nowhere") == Manifest()


@pytest.mark.parametrize(
    "text", ["{not json", '{"version": 1, "media": {"x": {}}}', '{"version": 2, "media": {}}']
)
def test_a_broken_manifest_is_an_error_naming_the_file(tmp_path, text):
    (tmp_path / MANIFEST_NAME).write_text(text)
    with pytest.raises(ManifestError) as info:
        Manifest.load(tmp_path)
    assert info.value.code == "manifest-invalid"
    assert MANIFEST_NAME in str(info.value)


def test_a_rendition_is_current_only_with_its_profile_and_intact_file(media):
    info = Manifest.load(media).media["demo/a"].renditions["360p"]
    assert rendition_is_current(media, info, "p1")
    assert not rendition_is_current(media, info, "p2")
    (media / info.path).write_bytes(b"\x47" + bytes(186) + b"x")  # same size, other bytes
    assert not rendition_is_current(media, info, "p1")


def test_media_finder_answers_from_the_manifest(media):
    exists = media_finder(media)
    assert exists("demo/a")
    assert not exists("demo/gone")  # listed, but its file is missing
    assert not exists("demo/other")
    assert not exists("demo/a/360p.ts")  # a file in the folder is not a media id
    assert not exists("../demo/a")


def test_media_paths_finds_a_rendition_and_its_keyframes(media):
    found = media_paths(media, "demo/a", "360p")
    assert found.path == (media / "demo" / "a" / "360p.ts").resolve()
    assert found.info.keyframes[0] == (1.4, 0)
    library = MediaLibrary(media)
    assert library.renditions("demo/a") == ("360p",)
    assert library.has("demo/a", "360p") and not library.has("demo/a", "720p")
    for media_id, rendition, words in [
        ("demo/nope", "360p", "not in the media manifest"),
        ("demo/a", "720p", "has 360p"),
        ("demo/gone", "360p", "missing"),
    ]:
        with pytest.raises(MediaNotFound) as info:
            library.rendition(media_id, rendition)
        assert info.value.code == "media-not-found"
        assert words in str(info.value)


def test_a_manifest_cannot_point_outside_the_media_folder(tmp_path):
    (tmp_path / "secret.ts").write_bytes(b"x")
    media = tmp_path / "media"
    evil = _entry("x", b"x").renditions["360p"].model_copy(update={"path": "../secret.ts"})
    Manifest().with_entry(
        "x", _entry("x", b"x").model_copy(update={"renditions": {"360p": evil}})
    ).save(media)
    assert not media_finder(media)("x")
    with pytest.raises(MediaNotFound):
        media_paths(media, "x", "360p")
