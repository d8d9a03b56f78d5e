"""Watch next over HTTP and the CLI: a group's rooms accumulate, its room-level history
moves its picks, and nothing per viewer is read."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import event

from server.persistence import Batch, MoodRecord, RoomStatus
from server.recommend.measures import measure_media
from tests.server.conftest import running, settings_for
from tests.server.recommend.clips import ingest

MIXED = """
kinoroom: 1
title: Mixed Signals
start: a
about: {genre: [thriller]}
scenes:
  a: {media: w/fast1, duration: 6, next: b}
  b: {media: w/slow1, duration: 6, next: c}
  c: {media: w/fast2, duration: 6, next: d}
  d: {media: w/slow2, duration: 6, ending: true}
"""
FAST = """
kinoroom: 1
title: Quick Cuts
start: a
scenes:
  a: {media: w/fast1, duration: 6, next: b}
  b: {media: w/fast2, duration: 6, ending: true}
"""
SLOW = FAST.replace("Quick Cuts", "Long Takes").replace("fast", "slow")


async def _setup(server):
    # Every clip shows each of its four colours equally long, to the same click track:
    # only the cutting differs, so only the cutting can explain what the rooms felt.
    ingest(server.services.settings.resolved_media_dir(), {
        "w/fast1": {"shot_s": 0.75, "seconds": 6}, "w/fast2": {"shot_s": 1.0, "seconds": 8},
        "w/slow1": {"shot_s": 3.0, "seconds": 12}, "w/slow2": {"shot_s": 2.5, "seconds": 10},
    })  # fmt: skip
    measure_media(server.services.settings.resolved_media_dir())
    return {title: await server.story(src) for title, src in
            (("mixed", MIXED), ("fast", FAST), ("slow", SLOW))}  # fmt: skip


async def _screen(server, group, story_id, leaning):
    """A room for ``group`` whose screening of Mixed Signals ended, with its scene moods
    (the room leaned in during the fast-cut scenes, or the slow ones)."""
    made = await server.http.post("/api/rooms", json={"story_id": story_id, "group": group})
    assert made.status_code == 201, made.text
    code = made.json()["code"]
    high = {"a", "c"} if leaning == "fast" else {"b", "d"}
    moods = [
        MoodRecord(code, s, 0.1, 0.3 if s in high else -0.2, 0.8 if s in high else 0.3, 5, 5, at)
        for at, s in ((3.0, "a"), (9.0, "b"), (15.0, "c"), (21.0, "d"))
    ]
    await server.services.store.commit(Batch.of(*moods, RoomStatus(code, "ended")))
    return code


@pytest.mark.asyncio
async def test_a_groups_history_moves_its_picks_and_reads_nothing_per_viewer(tmp_path):
    async with running(settings_for(tmp_path)) as server:
        stories = await _setup(server)
        ids = {}
        for name in ("fast", "slow"):
            made = await server.http.post("/api/groups", json={"name": f"The {name} club"})
            assert made.status_code == 201
            ids[name] = made.json()["id"]
            assert len(ids[name]) >= 16
        fresh = (await server.http.get(f"/api/groups/{ids['fast']}/next")).json()
        assert fresh["screenings"] == 0
        assert [p["kind"] for p in fresh["picks"]] == ["start", "start", "explore"]

        for name in ("fast", "slow"):
            await _screen(server, ids[name], stories["mixed"], name)
        info = (await server.http.get(f"/api/groups/{ids['fast']}")).json()
        assert info == {"id": ids["fast"], "name": "The fast club", "rooms": 1}

        statements: list[str] = []
        engine = server.services.store.engine.sync_engine
        record = lambda conn, cursor, sql, *rest: statements.append(sql.lower())  # noqa: E731
        event.listen(engine, "before_cursor_execute", record)
        try:
            fast = (await server.http.get(f"/api/groups/{ids['fast']}/next")).json()
            slow = (await server.http.get(f"/api/groups/{ids['slow']}/next")).json()
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert fast["screenings"] == 1 and slow["screenings"] == 1
        assert fast["picks"][0]["story_id"] == stories["fast"]
        assert "fast-cut scenes" in fast["picks"][0]["reason"]
        assert "cuts every 0.9 s on average" in fast["picks"][0]["reason"]
        assert slow["picks"][0]["story_id"] == stories["slow"]
        assert "long, unbroken shots" in slow["picks"][0]["reason"]
        assert [p["kind"] for p in fast["picks"]].count("explore") == 1
        assert all(p["story_id"] != stories["mixed"] for p in fast["picks"])
        # Room-level tables only: never the seats, the event log or the snapshots, where
        # a viewer's own votes live.
        touched = " ".join(statements)
        assert "scene_moods" in touched and "group_rooms" in touched
        for table in ("seats", "events", "snapshots"):
            assert f" {table}" not in touched, table

        missing = await server.http.get("/api/groups/nope/next")
        assert missing.status_code == 404 and missing.json()["error"] == "group-not-found"
        refused = await server.http.post("/api/rooms", json={"group": "nope"})
        assert refused.json()["error"] in ("group-not-found", "bad-request")

    env = {"KINOROOM_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-m", "server.cli", "recommend", ids["fast"], "--json"],
        capture_output=True, text=True, env={**env, "PYTHONPATH": "."}, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["picks"][0]["title"] == "Quick Cuts"
    text = subprocess.run(
        [sys.executable, "-m", "server.cli", "recommend", ids["slow"]],
        capture_output=True, text=True, env={**env, "PYTHONPATH": "."}, check=False,
    )  # fmt: skip
    assert "1. Long Takes" in text.stdout and "[outside your habit]" in text.stdout
    gone = subprocess.run(
        [sys.executable, "-m", "server.cli", "recommend", "nope"],
        capture_output=True, text=True, env={**env, "PYTHONPATH": "."}, check=False,
    )  # fmt: skip
    assert gone.returncode == 1 and gone.stderr.startswith("error group-not-found:")
