"""Tiny clips with ingest's stream profile, made with PyAV in a test's tmp dir.

Each clip is MPEG-TS: H.264 constrained baseline (Annex-B, no B-frames, GOP exactly
1 s, SPS/PPS repeated at every keyframe) and Opus with 60 ms frames, like
`mobile_bridge.media.renditions` writes. The picture says which clip it is: the lower half is
the clip's solid colour, the upper half a white bar moving right by ``BAR_STEP`` pixels a
frame, so two consecutive frames always differ (a frozen frame is visible) and the
colour names the clip. The sound is a sine tone.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

WIDTH, HEIGHT, FPS = 320, 180, 30
BAR_STEP = 4
SAMPLE_RATE = 48_000
OPUS_FRAME = 2880  # 60 ms

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (30, 200, 40),
    "blue": (30, 40, 220),
    "yellow": (220, 210, 30),
    "magenta": (210, 30, 210),
}


def picture(
    colour: tuple[int, int, int], index: int, texture: np.ndarray | None = None
) -> np.ndarray:
    img = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    img[HEIGHT // 2 :, :] = colour
    if texture is not None:  # scrolling grey blocks over the colour: every frame is big
        shift = (index * 3) % WIDTH
        img[HEIGHT // 2 :, :] //= 2
        img[HEIGHT // 2 :, :] += texture[: HEIGHT - HEIGHT // 2, shift : shift + WIDTH, None] // 2
        grain = np.random.default_rng(index).integers(0, 12, (HEIGHT - HEIGHT // 2, WIDTH, 1))
        img[HEIGHT // 2 :, :] += grain.astype(np.uint8)  # noise no motion search predicts
    x = (index * BAR_STEP) % (WIDTH - 16)
    img[: HEIGHT // 2, x : x + 16] = 255
    return img


def make_clip(
    path: Path,
    colour: str,
    *,
    seconds: float = 2.0,
    tone_hz: float = 440.0,
    audio: bool = True,
    audio_path: Path | None = None,
    textured: bool = False,
) -> Path:
    """Write a clip of ``seconds`` to ``path`` (audio to ``audio_path`` if given).

    ``textured``: scrolling random blocks and grain under the colour, so that each frame
    takes several RTP packets (a flat picture fits one), as a real film's do.
    """
    texture = None
    if textured:
        blocks = np.random.default_rng(len(colour)).integers(0, 255, (HEIGHT // 8, WIDTH // 4))
        texture = np.repeat(np.repeat(blocks.astype(np.uint8), 8, axis=0), 8, axis=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = av.open(str(path), "w", format="mpegts")
    video = out.add_stream("libx264", rate=FPS)
    video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    video.options = {
        "profile": "baseline", "preset": "ultrafast", "tune": "zerolatency", "bf": "0",
        "g": str(FPS), "keyint_min": str(FPS), "sc_threshold": "0",
        "x264-params": "repeat-headers=1:scenecut=0",
    }  # fmt: skip
    sink = out if audio_path is None else av.open(str(audio_path), "w", format="mpegts")
    if audio:  # every stream is added before the first packet is muxed
        sound = sink.add_stream("libopus", rate=SAMPLE_RATE)
        sound.layout = "mono"
        sound.options = {"frame_duration": "60"}
    for i in range(round(seconds * FPS)):
        frame = av.VideoFrame.from_ndarray(picture(COLOURS[colour], i, texture), format="rgb24")
        frame.pts = i
        out.mux(video.encode(frame))
    out.mux(video.encode(None))
    if audio:
        total = round(seconds * SAMPLE_RATE)
        for start in range(0, total, OPUS_FRAME):
            t = (np.arange(start, min(start + OPUS_FRAME, total)) / SAMPLE_RATE).astype(np.float32)
            samples = (0.3 * np.sin(2 * np.pi * tone_hz * t)).astype(np.float32)[None, :]
            block = av.AudioFrame.from_ndarray(samples, format="flt", layout="mono")
            block.sample_rate = SAMPLE_RATE
            block.pts = start
            sink.mux(sound.encode(block))
        sink.mux(sound.encode(None))
    if sink is not out:
        sink.close()
    out.close()
    return path


def colour_of(rgb: np.ndarray) -> str:
    """The clip colour nearest to the lower half of a decoded RGB picture."""
    lower = rgb[rgb.shape[0] // 2 + 8 :, :, :].reshape(-1, 3).mean(axis=0)
    return min(COLOURS, key=lambda name: float(np.sum((np.array(COLOURS[name]) - lower) ** 2)))


def bar_x(rgb: np.ndarray) -> int:
    """Where the moving bar is (its leftmost bright column in the upper half)."""
    upper = rgb[: rgb.shape[0] // 2 - 8, :, :].mean(axis=(0, 2))
    return int(np.argmax(upper > 128))


def make_film(root: Path, names: dict[str, str], **kwargs: object) -> dict[str, Path]:
    """Clips as ingest stores them: ``root/<id>/360p.ts`` for each ``id: colour``."""
    return {
        clip: make_clip(root / clip / "360p.ts", colour, **kwargs)  # type: ignore[arg-type]
        for clip, colour in names.items()
    }
