"""After a server-path camera session nothing frame-like is left anywhere: the analysis
made samples (the room's mood counts the camera), yet the data directory holds only the
database, the secret and media, and no table holds a blob, a picture or a landmark array.
Nor any viewer's affect: with phones sending ``affect`` messages as well, no event and no
snapshot holds a device id next to valence, arousal, engagement or heart-rate numbers
(only the room's aggregated mood is persisted, DESIGN.md "Affect").
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from pathlib import Path

import av
import numpy as np
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription, VideoStreamTrack
from PIL import Image
from skimage import data

from mobile_bridge.client import PhoneClient
from mobile_bridge.join import join_room
from mobile_bridge.protocol import MoodMessage
from tests.server.conftest import QUICK_STORY, running, settings_for

TIMEOUT = 60.0 * float(os.environ.get("KINOROOM_TEST_TIMEOUT_SCALE", "1"))  # a cold worker
# The quick story's scenes, long: the screening must still be playing when the camera's
# first sample comes back from a worker that starts as slowly as this machine makes it.
# The host ends it.
LONG_STORY = QUICK_STORY.replace("duration: 2.5", "duration: 300").replace(
    "window: 1.2", "window: 250"
)
MAX_BLOB = 4096  # bytes: a 320×240 frame is 230,400, a JPEG of it ~10,000
LANDMARKS = 478
ALLOWED = {"kinoroom.db", "kinoroom.db-wal", "kinoroom.db-shm", "kinoroom.db-journal", "secret"}


class FaceCamera(VideoStreamTrack):
    """The astronaut (a smiling face) at 320×240, with a little sensor noise per frame."""

    def __init__(self) -> None:
        super().__init__()
        picture = Image.fromarray(data.astronaut()).resize((320, 240))
        self.picture = np.asarray(picture, dtype=np.int16)
        self.rng = np.random.default_rng(0)

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        noisy = self.picture + self.rng.integers(-2, 3, self.picture.shape)
        frame = av.VideoFrame.from_ndarray(np.clip(noisy, 0, 255).astype(np.uint8), "rgb24")
        frame.pts, frame.time_base = pts, time_base
        return frame


def frame_like(value: object) -> str | None:
    """Why ``value`` (a database cell, or part of one) could hold camera data, or None."""
    if isinstance(value, bytes | bytearray | memoryview):
        return f"a blob of {len(value)} bytes" if len(value) > MAX_BLOB else None
    if isinstance(value, str):
        if len(value) > MAX_BLOB and " " not in value[:MAX_BLOB]:
            return f"an unbroken string of {len(value)} characters (base64?)"
        if value[:1] in "[{":
            try:
                return frame_like(json.loads(value))
            except ValueError:
                return None
        return None
    if isinstance(value, dict):  # "rng": the Screening's Mersenne Twister, 625 integers
        return next((why for k, v in value.items() if k != "rng" and (why := frame_like(v))), None)
    if isinstance(value, list):
        numbers = sum(isinstance(v, int | float) for v in value)
        if numbers >= 3 * 48 or len(value) >= LANDMARKS:  # a crop row, a mesh, a histogram
            return f"an array of {len(value)} items"
        if len(value) >= 100 and all(isinstance(v, list) and len(v) in (2, 3) for v in value):
            return f"{len(value)} points"
        return next((why for v in value if (why := frame_like(v))), None)
    return None


def test_the_detector_sees_frames_and_meshes():
    frame = np.zeros((240, 320, 3), np.uint8)
    assert frame_like(frame.tobytes())
    assert frame_like(json.dumps({"mesh": np.zeros((LANDMARKS, 3)).tolist()}))
    assert frame_like(json.dumps([[0.5, 0.5]] * 120))
    assert frame_like("QUJD" * 2000)
    assert not frame_like(json.dumps({"valence": 0.3, "devices": [["abc", 1, 0.2]]}))
    assert not frame_like(json.dumps({"rng": [3, list(range(625)), None]}))


AFFECT_KEYS = {"valence", "arousal", "engagement", "heart_rate_bpm"}


def per_device_affect(value: object, devices: set[str]) -> str | None:
    """Where ``value`` (a parsed JSON cell) pairs a device id with affect numbers, or None:
    an object with an affect key and a device id among its values or keys, or a row
    ``[device, …]`` with three or more numbers (v, a, e: the shape of a per-phone sample
    or per-phone sums; the devices row ``[device, weight]`` and ballots have fewer)."""
    if isinstance(value, dict):
        keys = set(value) & AFFECT_KEYS
        ids = {str(v) for v in value.values() if isinstance(v, str)} | set(map(str, value))
        if keys and ids & devices:
            return f"{sorted(keys)} next to device {sorted(ids & devices)}"
        if value.get("type") == "AffectSample":
            return "an AffectSample event"
        return next((w for v in value.values() if (w := per_device_affect(v, devices))), None)
    if isinstance(value, list):
        if value and isinstance(value[0], str) and value[0] in devices:
            numbers = [v for v in value if isinstance(v, int | float) and not isinstance(v, bool)]
            if len(numbers) >= 3:
                return f"a row of {len(numbers)} numbers for device {value[0]}"
        return next((w for v in value if (w := per_device_affect(v, devices))), None)
    return None


def scan_affect(path: Path, devices: set[str]) -> list[str]:
    """Every row of the events and snapshots tables, checked for per-device affect."""
    found = []
    with sqlite3.connect(path) as db:
        for table in ("events", "snapshots"):
            columns = [r[1] for r in db.execute(f'pragma table_info("{table}")')]
            for row in db.execute(f'select * from "{table}"'):
                for column, value in zip(columns, row, strict=True):
                    parsed = value
                    if isinstance(value, str) and value[:1] in "[{":
                        parsed = json.loads(value)
                    if why := per_device_affect(parsed, devices):
                        found.append(f"{table}.{column}: {why}")
    return found


def test_the_affect_scan_sees_what_rooms_used_to_persist():
    devices = {"d1"}
    event = {"type": "AffectSample", "device": "d1", "valence": 0.3, "arousal": 0.1,
             "engagement": 0.5, "now": 1.0, "heart_rate_bpm": None}  # fmt: skip
    assert per_device_affect(event, devices)
    v2 = {"screening": {"devices": [["d1", 1.0]], "samples": [["d1", 0.3, 0.1, 0.5, 1.0, None]]}}
    assert per_device_affect(v2, devices)
    tally = {"scene_mood": {"trim": 0.2, "devices": [["d1", 1, 0.3, 0.1, 0.5, 0, 0.0]]}}
    assert per_device_affect(tally, devices)
    now = {"type": "RoomMood", "valence": 0.3, "arousal": 0.1, "engagement": 0.5,
           "viewers": 1, "present": 1, "now": 1.0, "heart_rate_bpm": None}  # fmt: skip
    ballots = {"devices": [["d1", 1.0]], "ballots": [["d1", 3, {"option": "x"}, 1.0]]}
    assert not per_device_affect(now, devices) and not per_device_affect(ballots, devices)


def scan_database(path: Path) -> list[str]:
    found = []
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type='table'")]
        for table in tables:
            columns = [r[1] for r in db.execute(f'pragma table_info("{table}")')]
            for row in db.execute(f'select * from "{table}"'):
                for column, value in zip(columns, row, strict=True):
                    if why := frame_like(value):
                        found.append(f"{table}.{column}: {why}")
    return found


@pytest.mark.asyncio
async def test_a_camera_session_leaves_no_frame_crop_or_landmarks_behind(tmp_path):
    settings = settings_for(tmp_path, affect_workers=1, affect_fps=4.0)
    data_dir = settings.data_dir
    async with running(settings) as live:
        before = {p for p in data_dir.rglob("*") if p.is_file()}
        story_id = await live.story(LONG_STORY)
        room = (await live.http.post("/api/rooms", json={"story_id": story_id})).json()
        code = room["code"]
        seat = await join_room(live.url, code, "Ada", http=live.http)
        wall = await live.http.post(
            f"/api/rooms/{code}/join", json={"nickname": "w", "role": "screen"}
        )
        host = PhoneClient(live.url, code, room["host_token"], "host", timeout_s=TIMEOUT)
        phone = PhoneClient(live.url, code, seat.token, timeout_s=TIMEOUT)
        seat2 = await join_room(live.url, code, "Bo", http=live.http)
        other = PhoneClient(live.url, code, seat2.token, timeout_s=TIMEOUT)
        screen = PhoneClient(live.url, code, wall.json()["token"], "screen", timeout_s=TIMEOUT)
        camera = RTCPeerConnection()
        camera.addTransceiver(FaceCamera(), direction="sendonly")
        try:
            await asyncio.gather(host.connect(), phone.connect(), screen.connect())
            await host.host("start")
            await camera.setLocalDescription(await camera.createOffer())
            offer = {"type": "offer", "sdp": camera.localDescription.sdp}
            auth = {"Authorization": f"Bearer {seat.token}"}
            answer = await live.http.post(f"/api/rooms/{code}/webrtc", json=offer, headers=auth)
            assert answer.status_code == 200, answer.text
            await camera.setRemoteDescription(RTCSessionDescription(answer.json()["sdp"], "answer"))
            mood = await screen.wait_for(MoodMessage, timeout=TIMEOUT)
            while mood.viewers < 1:
                mood = await screen.wait_for(MoodMessage, timeout=TIMEOUT)
            assert (mood.viewers, mood.participation) == (1, 1.0)  # the one phone, by camera
            served = live.services.rooms.get(code)
            assert served is not None and served.owner is not None
            assert served.owner.core.screening.mood(served.clock.now()).viewers == 1
            # A second phone analyses on-device and sends its numbers: kept in memory only.
            await other.connect()
            for i in range(6):
                await other.affect(0.1 * i, -0.2, 0.7, heart_rate_bpm=70.0 + i)
                await asyncio.sleep(0.3)
            while mood.viewers < 2:
                mood = await screen.wait_for(MoodMessage, timeout=TIMEOUT)
            assert live.services.affect is not None
            assert live.services.affect.counts.samples >= 1
            await host.host("end")  # the scene's mood is persisted
        finally:
            await camera.close()
            await asyncio.gather(host.close(), phone.close(), screen.close(), other.close())
        moods = await live.services.store.scene_moods(code)
        assert moods and moods[0].viewers == 2

    after = {p for p in tmp_path.rglob("*") if p.is_file()}
    media = settings.resolved_media_dir()
    created = {p for p in after - before if p.name not in ALLOWED and media not in p.parents}
    assert created == set(), f"files written during the camera session: {sorted(created)}"
    for path in after:
        if path.parent == data_dir and path.name.startswith("kinoroom.db"):
            continue
        assert path.stat().st_size <= MAX_BLOB, f"{path} is {path.stat().st_size} bytes"
    assert scan_database(data_dir / "kinoroom.db") == []
    devices = {seat.device, seat2.device}
    assert scan_affect(data_dir / "kinoroom.db", devices) == []
