"""The face video Chromium's fake camera plays, and a browser launched with it.

Scikit-image's smiling astronaut, swaying slightly, skin pulsing at 72 bpm, written as
YUV4MPEG2: `--use-file-for-fake-video-capture` must be given at launch, so these tests
launch their own Chromium with conftest's FLAGS plus that one.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio
from PIL import Image
from playwright.async_api import Browser, async_playwright
from skimage import data

from tests.affect.synthetic_face import SIGNATURE
from tests.web import support
from tests.web.conftest import CHROMIUM, FLAGS
from web_client import STATIC_DIR

VENDOR = STATIC_DIR / "vendor" / "mediapipe-tasks-vision"
LONG_STORY = support.BROWSER_STORY.replace("window: 6", "window: 25")
FPS = 30
PULSE_BPM = 72.0


# -- the face video the fake camera plays ------------------------------------------------


def face_frames(seconds: float = 2.5) -> list[np.ndarray]:
    """320×240 RGB frames of the astronaut's face: 3 px of sway at 0.4 Hz, skin pulsing
    1 % at 72 bpm along the blood-volume signature; a whole number of both per loop."""
    astronaut = data.astronaut().astype(np.float64)
    frames = []
    for i in range(round(seconds * FPS)):
        t = i / FPS
        dx = round(3 * math.sin(2 * math.pi * 0.4 * t))
        crop = astronaut[35:215, 105 + dx : 345 + dx]
        phase = 2 * math.pi * PULSE_BPM / 60 * t
        pulsed = crop * (1 + 0.01 * (math.sin(phase) + 0.3 * math.sin(2 * phase)) * SIGNATURE)
        picture = Image.fromarray(np.clip(np.round(pulsed), 0, 255).astype(np.uint8))
        frames.append(np.asarray(picture.resize((320, 240), Image.Resampling.BICUBIC)))
    return frames


def write_y4m(path: Path, frames: list[np.ndarray], fps: int = FPS) -> Path:
    """YUV4MPEG2, 4:2:0, BT.601 studio range: what Chromium's file camera reads."""
    height, width = frames[0].shape[:2]
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            r, g, b = (frame[..., k].astype(np.float64) for k in range(3))
            y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
            cb = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
            cr = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255

            def half(plane: np.ndarray) -> np.ndarray:
                return plane.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))

            f.write(b"FRAME\n")
            for plane in (y, half(cb), half(cr)):
                f.write(np.clip(np.round(plane), 0, 255).astype(np.uint8).tobytes())
    return path


@pytest.fixture(scope="module")
def face_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_y4m(tmp_path_factory.mktemp("camera") / "astronaut.y4m", face_frames())


@pytest_asyncio.fixture
async def browser(face_video: Path) -> AsyncIterator[Browser]:
    """conftest's Chromium, with the face video as its camera (a launch flag)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    missing = [
        name
        for name in ("vision_bundle.mjs", "wasm/vision_wasm_internal.wasm")
        if not (VENDOR / name).is_file()
    ]
    if missing:
        pytest.fail(f"{VENDOR} lacks {missing}: run `make vendor` (needs npm)")
    flags = [*FLAGS, f"--use-file-for-fake-video-capture={face_video}"]
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=flags)
        try:
            yield launched
        finally:
            await launched.close()


# -- the same numbers in the browser as in Python -----------------------------------------
