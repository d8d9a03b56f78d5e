"""Generated clips do not pile up: `prune_generated`, `kinoroom film prune`, and the
server's own hourly pruning delete the old ones, with their manifest entries."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from genmodels.retention import prune_generated
from mobile_bridge.media.manifest import Manifest, MediaEntry, RenditionFile, Source
from server.cli import main
from tests.server.conftest import running, settings_for

HOUR = 3600.0
NOW = time.time()


def clip(media_dir: Path, media_id: str, *, age_s: float, listed: bool = True) -> Path:
    """A one-rendition clip ``age_s`` old (its files' and folder's mtime)."""
    folder = media_dir / media_id
    folder.mkdir(parents=True)
    (folder / "360p.ts").write_bytes(b"\x47" * 1880)
    for path in (folder / "360p.ts", folder):
        os.utime(path, (NOW - age_s, NOW - age_s))
    if listed:
        file = RenditionFile(path=f"{media_id}/360p.ts", profile="p", width=640, height=360,
                             fps=30, video_kbps=700, audio=True, sha256="0", size=1880,
                             duration_s=1, keyframes=[(0.0, 0)])  # fmt: skip
        source = Source(path="generated:montage", size=0, sha256="0")
        Manifest.record(media_dir, media_id, MediaEntry(source=source, duration_s=1,
                                                        renditions={"360p": file}))  # fmt: skip
    return folder


@pytest.fixture
def media(tmp_path: Path) -> Path:
    media_dir = tmp_path / "media"
    clip(media_dir, "demo/01-platform", age_s=900 * HOUR)  # shot footage: never pruned
    clip(media_dir, "generated/old", age_s=200 * HOUR)
    clip(media_dir, "generated/young", age_s=2 * HOUR)
    clip(media_dir, "generated/crashed", age_s=300 * HOUR, listed=False)  # a dead worker's
    ghost = clip(media_dir, "generated/ghost", age_s=1 * HOUR)  # listed, files gone
    (ghost / "360p.ts").unlink()
    ghost.rmdir()
    return media_dir


def test_old_clips_go_with_their_manifest_entries_young_ones_and_footage_stay(media: Path):
    pruned = prune_generated(media, 168 * HOUR, now=NOW)
    assert pruned.removed == ("generated/crashed", "generated/ghost", "generated/old")
    assert (pruned.bytes, pruned.kept) == (2 * 1880, 1)
    assert sorted(Manifest.load(media).media) == ["demo/01-platform", "generated/young"]
    assert sorted(p.name for p in (media / "generated").iterdir()) == ["young"]
    assert (media / "demo/01-platform/360p.ts").is_file()


def test_a_clip_being_written_is_young_whatever_its_first_file_says(media: Path):
    folder = media / "generated" / "writing"
    folder.mkdir()  # just made; no file written yet
    assert "generated/writing" not in prune_generated(media, 0.5 * HOUR, now=NOW + 1).removed
    assert folder.is_dir()


def test_a_dry_run_deletes_nothing(media: Path):
    before = Manifest.load(media)
    pruned = prune_generated(media, 168 * HOUR, now=NOW, dry_run=True)
    assert len(pruned.removed) == 3
    assert Manifest.load(media) == before and (media / "generated" / "old").is_dir()


def test_a_negative_age_is_refused(media: Path):
    with pytest.raises(ValueError, match="negative"):
        prune_generated(media, -1)


def test_kinoroom_film_prune_lists_what_it_removed(media: Path, capsys):
    assert main(["film", "prune", "--media", str(media), "--hours", "24", "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert out.split() == ["generated/crashed", "generated/ghost", "generated/old"]
    assert "would remove 3 generated clip(s) older than 24 h" in err and "1 kept" in err
    assert (media / "generated" / "old").is_dir()
    assert main(["film", "prune", "--media", str(media), "--hours", "1.5"]) == 0
    out, err = capsys.readouterr()
    assert out.split() == ["generated/crashed", "generated/ghost", "generated/old",
                           "generated/young"]  # fmt: skip
    assert "removed 4 generated clip(s)" in err and "0 kept" in err
    assert sorted(Manifest.load(media).media) == ["demo/01-platform"]


def test_kinoroom_film_prune_refuses_a_bad_age_and_a_broken_manifest(media: Path, capsys):
    with pytest.raises(SystemExit):
        main(["film", "prune", "--media", str(media), "--hours", "-2"])
    assert "must be 0 or more" in capsys.readouterr().err
    (media / "manifest.json").write_text("{not json")
    assert main(["film", "prune", "--media", str(media)]) == 1
    assert capsys.readouterr().err.startswith("error manifest-invalid:")


@pytest.mark.asyncio
async def test_the_server_prunes_old_clips_when_it_starts(media: Path, tmp_path: Path):
    async with running(settings_for(tmp_path, media_dir=media, gen_keep_hours=24)):
        async with asyncio.timeout(10):
            while (media / "generated" / "old").exists():
                await asyncio.sleep(0.05)
        assert (media / "generated" / "young").is_dir()
    assert sorted(Manifest.load(media).media) == ["demo/01-platform", "generated/young"]


@pytest.mark.asyncio
async def test_a_server_set_to_keep_clips_deletes_none(media: Path, tmp_path: Path):
    async with running(settings_for(tmp_path, media_dir=media, gen_keep_hours=0)) as live:
        assert not any(t.get_name() == "prune-generated" for t in live.services.tasks)
    assert (media / "generated" / "old").is_dir()
