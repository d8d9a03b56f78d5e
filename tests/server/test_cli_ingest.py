"""`kinoroom ingest` and `kinoroom film demo`, as a user runs them."""

from __future__ import annotations

import json

import pytest

from server.cli import main
from tests.mobile_bridge.media_clips import make_clip

STORY = """\
kinoroom: 1
title: Two Shots
start: one
scenes:
  one: {media: shots/one, duration: 1, next: two}
  two: {media: shots/two, duration: 1, ending: true}
"""


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def story(tmp_path):
    path = tmp_path / "story.yaml"
    path.write_text(STORY)
    return path


def test_ingest_names_the_bad_clip_processes_the_good_one_and_exits_1(tmp_path, story, capsys):
    (tmp_path / "clips").mkdir()
    good = make_clip(tmp_path / "clips" / "one.mp4", seconds=1.0)
    bad = tmp_path / "clips" / "two.mp4"
    bad.write_text("not a film")
    media = tmp_path / "media"
    code, _, err = run(
        capsys, "ingest", good, bad, "--story", story, "--media", media, "--renditions", "360p"
    )
    assert code == 1
    assert f"error ingest-not-media: {bad}" in err
    assert "2 clip(s): 1 encoded, 0 skipped, 1 failed" in err
    manifest = json.loads((media / "manifest.json").read_text())
    assert list(manifest["media"]) == ["shots/one"]
    assert (media / "shots" / "one" / "360p.ts").is_file()

    # The validator now finds the ingested clip and warns only about the failed one.
    code, out, _ = run(capsys, "story", "validate", "--media", media, story)
    assert code == 0
    assert "missing-media" in out and "shots/two" in out and "shots/one'" not in out

    # Fixed and run again: the good clip is skipped, the other one goes in.
    make_clip(bad, seconds=1.0, audio=False)
    code, _, err = run(
        capsys, "ingest", good, bad, "--story", story, "--media", media, "--renditions", "360p"
    )
    assert code == 0, err
    assert "shots/one: unchanged, skipped" in err
    assert "2 clip(s): 1 encoded, 1 skipped, 0 failed" in err


def test_ingest_refuses_an_unknown_rendition(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["ingest", "x.mp4", "--renditions", "360p,8k"])
    assert info.value.code == 2
    assert "unknown rendition '8k'" in capsys.readouterr().err


def test_ingest_without_a_story_wants_explicit_ids(tmp_path, capsys):
    clip = make_clip(tmp_path / "a.mp4", seconds=1.0, audio=False)
    media = tmp_path / "media"
    code, _, err = run(capsys, "ingest", clip, "--media", media, "--renditions", "360p")
    assert code == 1
    assert "error ingest-no-match" in err and "ID=PATH" in err
    code, _, err = run(capsys, "ingest", f"x/a={clip}", "--media", media, "--renditions", "360p")
    assert code == 0, err


def test_ingest_reports_a_broken_manifest(tmp_path, story, capsys):
    media = tmp_path / "media"
    media.mkdir()
    (media / "manifest.json").write_text("{")
    clip = make_clip(tmp_path / "one.mp4", seconds=1.0, audio=False)
    code, _, err = run(capsys, "ingest", clip, "--story", story, "--media", media)
    assert code == 1
    assert "error manifest-invalid" in err


def test_film_demo_makes_the_story_s_film_once(tmp_path, story, capsys):
    media = tmp_path / "media"
    argv = ["film", "demo", "--story", story, "--media", media, "--renditions", "360p"]
    code, _, err = run(capsys, *argv, "--jobs", "1")
    assert code == 0, err
    assert "2 clip(s) made (2 s of film)" in err
    assert (media / "shots" / "two" / "360p.ts").is_file()
    code, _, err = run(capsys, *argv)
    assert code == 0
    assert "0 clip(s) made" in err and "2 already there" in err
    code, out, _ = run(capsys, "story", "validate", "--media", media, story)
    assert code == 0 and "missing-media" not in out


def test_the_media_folder_defaults_to_the_settings(tmp_path, story, capsys, monkeypatch):
    monkeypatch.setenv("KINOROOM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KINOROOM_MEDIA_DIR", raising=False)
    code, _, err = run(
        capsys, "film", "demo", "--story", story, "--renditions", "360p", "--jobs", "1"
    )
    assert code == 0, err
    assert (tmp_path / "data" / "media" / "manifest.json").is_file()
