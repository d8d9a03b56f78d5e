"""The server's camera analysis pool: frames in, samples out, bounded work per viewer."""

from __future__ import annotations

import asyncio
import os

import av
import numpy as np
import pytest
from PIL import Image
from skimage import data

from server.affect_workers import AffectWorkers, to_rgb

TIMEOUT = 60.0 * float(os.environ.get("KINOROOM_TEST_TIMEOUT_SCALE", "1"))  # a cold spawn


def face_frame(width=320, height=240):
    picture = np.asarray(Image.fromarray(data.astronaut()).resize((width, height)))
    return av.VideoFrame.from_ndarray(np.ascontiguousarray(picture), format="rgb24")


def test_frames_of_any_size_become_320x240_rgb():
    assert to_rgb(face_frame()).shape == (240, 320, 3)
    assert to_rgb(face_frame(640, 480)).shape == (240, 320, 3)


@pytest.mark.asyncio
async def test_a_face_on_camera_becomes_samples_and_the_loop_never_waits():
    now = [100.0]
    samples = []
    arrived = asyncio.Event()

    def deliver(device, sample):
        samples.append((device, sample))
        if len(samples) >= 2:
            arrived.set()

    pool = AffectWorkers(deliver, workers=2, analyse_fps=2.0, clock=lambda: now[0])
    frame = face_frame()
    try:
        async with asyncio.timeout(TIMEOUT):
            while not arrived.is_set():
                for _ in range(8):  # 16 fps: eight frames per half second
                    now[0] += 1 / 16
                    pool.sink("phone-a", frame)
                await asyncio.sleep(0.05)  # the worker's answer comes back on the loop
        assert pool.viewers == 1
        assert pool.worker_of("phone-a") == pool.worker_of("phone-a")
        device, sample = samples[0]
        assert device == "phone-a" and -1 <= sample.valence <= 1
        counts = pool.counts
        # Bounded work: at most one analysis in flight; frames due meanwhile were skipped.
        assert counts.analysed <= counts.frames // 8 + 1
        assert counts.skipped > 0  # the first call waited for the process to start
        assert counts.failed == 0
    finally:
        await pool.close()
    pool.sink("phone-a", frame)  # after close: ignored
    assert pool.viewers == 0


@pytest.mark.asyncio
async def test_a_worker_that_cannot_load_its_model_stops_the_analysis(tmp_path, caplog):
    now = [0.0]
    missing = tmp_path / "no-such.task"
    pool = AffectWorkers(lambda d, s: None, landmark_model=missing, clock=lambda: now[0])
    frame = face_frame()
    try:
        async with asyncio.timeout(TIMEOUT):
            while "server-side analysis is off" not in caplog.text:
                now[0] += 0.5
                pool.sink("phone-a", frame)
                await asyncio.sleep(0.05)
        failed = pool.counts.failed
        pool.sink("phone-a", frame)  # ignored from now on: no spawn loop
        assert pool.counts.failed == failed and pool.counts.samples == 0
    finally:
        await pool.close()
