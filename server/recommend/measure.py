"""The film's language, measured from one clip: its cuts, motion, colour and sound.

Measured once per clip from its phone rendition (the 360p MPEG-TS ingest made: H.264
and Opus, the same file for an ingested clip, a demo-film clip or a generated one), so
every clip of the library is measured alike whatever it was shot on:

- **cuts** (shot boundaries): PySceneDetect's `ContentDetector` (HSV frame differences
  against its default threshold 27, at least 15 frames between cuts) read through its
  PyAV backend; a shot is the stretch between two cuts, so ``shot_s`` is the clip's
  length over its shot count;
- **motion**: the mean of the same detector's per-frame luma difference (``delta_lum``,
  0–255 levels a frame) over every frame that is not a cut: a still shot is near 0, a
  busy one 5–20;
- **colour**: frames sampled once a second in CIE L*a*b* (`genmodels.style.srgb_to_lab`,
  the style anchor's colour space and sampling grid): lightness (mean L*, 0–100),
  colourfulness (mean chroma √(a*²+b*²)) and warmth (mean b*: yellow above 0, blue below);
- **loudness**: integrated loudness, ITU-R BS.1770-4 (`pyloudnorm`), in LUFS;
- **tempo**: librosa's tempo estimate from the onset-strength envelope (beats a minute;
  none for a clip shorter than 3 s or without sound).

Blocking CPU work (a 30 s clip takes about a second); callers run it off the event loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import av
import av.audio.stream
import numpy as np
import numpy.typing as npt

from genmodels.style import PIXEL_STEP, analysis_frame, srgb_to_lab

ANALYSIS_RATE = 22_050  # Hz: the audio librosa and the loudness meter read
TEMPO_HOP = 256  # samples: 11.6 ms onset frames, fine enough to tell 117 from 120 bpm
MIN_TEMPO_S = 3.0
SILENCE_LUFS = -70.0  # BS.1770's absolute gate: quieter is silence
MEASURE_VERSION = 1  # bump when a measure changes: every clip is measured again


class MeasureError(Exception):
    """A clip that cannot be measured (``measure-failed``): unreadable or without video."""

    code = "measure-failed"

    def __init__(self, file: str, reason: str) -> None:
        self.file, self.reason = file, reason
        super().__init__(f"{file}: {reason}")


@dataclass(frozen=True, slots=True)
class ClipMeasure:
    """What one clip looks and sounds like (module docstring for each number)."""

    duration_s: float
    cuts: tuple[float, ...]  # seconds into the clip where a new shot starts
    motion: float
    lightness: float
    colourfulness: float
    warmth: float
    loudness_lufs: float | None  # None: no sound track
    tempo_bpm: float | None

    @property
    def shots(self) -> int:
        return len(self.cuts) + 1

    @property
    def shot_s(self) -> float:
        """The clip's mean shot length."""
        return self.duration_s / self.shots

    def to_json(self) -> dict[str, object]:
        return {
            "duration_s": round(self.duration_s, 3),
            "cuts": [round(c, 3) for c in self.cuts],
            "motion": round(self.motion, 4),
            "lightness": round(self.lightness, 3),
            "colourfulness": round(self.colourfulness, 3),
            "warmth": round(self.warmth, 3),
            "loudness_lufs": None if self.loudness_lufs is None else round(self.loudness_lufs, 2),
            "tempo_bpm": None if self.tempo_bpm is None else round(self.tempo_bpm, 2),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> ClipMeasure:
        def number(key: str) -> float:
            value = data[key]
            assert isinstance(value, int | float), key
            return float(value)

        def maybe(key: str) -> float | None:
            return None if data.get(key) is None else number(key)

        cuts = data["cuts"]
        assert isinstance(cuts, list)
        return cls(
            number("duration_s"), tuple(float(c) for c in cuts), number("motion"),
            number("lightness"), number("colourfulness"), number("warmth"),
            maybe("loudness_lufs"), maybe("tempo_bpm"),
        )  # fmt: skip


def measure_clip(path: Path) -> ClipMeasure:
    """Measure one rendition file (module docstring).

    Raises:
        MeasureError: the file cannot be decoded or has no video.
    """
    try:
        cuts, motion, frame_s = _cuts_and_motion(path)
        lab, sound, duration_s = _colour_and_sound(path)
    except (av.FFmpegError, OSError) as exc:
        raise MeasureError(str(path), f"cannot decode: {exc}") from exc
    if lab is None:
        raise MeasureError(str(path), "no video frames")
    duration_s = max(duration_s, frame_s)
    chroma = np.sqrt(lab[:, 1] ** 2 + lab[:, 2] ** 2)
    loudness, tempo = _loudness(sound), _tempo(sound)
    return ClipMeasure(
        duration_s=duration_s,
        cuts=cuts,
        motion=motion,
        lightness=float(lab[:, 0].mean()),
        colourfulness=float(chroma.mean()),
        warmth=float(lab[:, 2].mean()),
        loudness_lufs=loudness,
        tempo_bpm=tempo,
    )


def _cuts_and_motion(path: Path) -> tuple[tuple[float, ...], float, float]:
    # Imported here: OpenCV and the detector load only where clips are measured.
    from scenedetect import ContentDetector, SceneManager, StatsManager
    from scenedetect.backends.pyav import VideoStreamAv

    video = VideoStreamAv(str(path), suppress_output=True)
    stats = StatsManager()
    manager = SceneManager(stats)
    manager.add_detector(ContentDetector())
    frames = manager.detect_scenes(video)
    if frames == 0:
        return (), 0.0, 0.0
    fps = float(video.frame_rate)
    scenes = manager.get_scene_list(start_in_scene=True)
    cut_frames = {start.frame_num for start, _ in scenes[1:]}
    cuts = tuple(round(start.seconds, 3) for start, _ in scenes[1:])
    deltas = [
        float(value)
        for n in range(1, frames)
        if n not in cut_frames
        and stats.metrics_exist(n, ["delta_lum"])
        and isinstance(value := stats.get_metrics(n, ["delta_lum"])[0], int | float)
    ]
    motion = float(np.mean(deltas)) if deltas else 0.0
    return cuts, motion, frames / fps


def _colour_and_sound(
    path: Path,
) -> tuple[npt.NDArray[np.float32] | None, npt.NDArray[np.float32] | None, float]:
    """L*a*b* pixels of a frame a second, the mono sound at `ANALYSIS_RATE`, the length."""
    pixels: list[npt.NDArray[np.float32]] = []
    chunks: list[npt.NDArray[np.float32]] = []
    next_s, end_s = 0.0, 0.0
    with av.open(str(path)) as container:
        if not container.streams.video:
            return None, None, 0.0
        video = container.streams.video[0]
        audio: av.audio.stream.AudioStream | None = (
            container.streams.audio[0] if container.streams.audio else None
        )
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=ANALYSIS_RATE)
        origin: float | None = None
        for frame in container.decode(*([video, audio] if audio else [video])):
            if isinstance(frame, av.AudioFrame):
                chunks += [f.to_ndarray()[0] for f in resampler.resample(frame)]
                continue
            if not isinstance(frame, av.VideoFrame) or frame.time is None:
                continue
            origin = frame.time if origin is None else origin
            t = frame.time - origin
            end_s = max(end_s, t)
            if t + 1e-6 >= next_s:
                rgb = analysis_frame(np.asarray(frame.to_ndarray(format="rgb24"), np.uint8))
                pixels.append(srgb_to_lab(rgb[::PIXEL_STEP, ::PIXEL_STEP].reshape(-1, 3)))
                next_s += 1.0
        if audio is not None:
            chunks += [f.to_ndarray()[0] for f in resampler.resample(None)]
    lab = np.concatenate(pixels) if pixels else None
    sound = np.concatenate(chunks).astype(np.float32) if chunks else None
    return lab, sound, end_s


def _loudness(sound: npt.NDArray[np.float32] | None) -> float | None:
    if sound is None or len(sound) < ANALYSIS_RATE // 2:
        return None
    import pyloudnorm

    lufs = float(pyloudnorm.Meter(ANALYSIS_RATE).integrated_loudness(sound.astype(np.float64)))
    return max(SILENCE_LUFS, lufs) if math.isfinite(lufs) else SILENCE_LUFS


def _tempo(sound: npt.NDArray[np.float32] | None) -> float | None:
    if sound is None or len(sound) < MIN_TEMPO_S * ANALYSIS_RATE:
        return None
    if float(np.sqrt(np.mean(sound.astype(np.float64) ** 2))) < 1e-4:  # silence has no beat
        return None
    import librosa

    onset = librosa.onset.onset_strength(y=sound, sr=ANALYSIS_RATE, hop_length=TEMPO_HOP)
    tempo = librosa.feature.tempo(onset_envelope=onset, sr=ANALYSIS_RATE, hop_length=TEMPO_HOP)
    return float(np.asarray(tempo).ravel()[0])


__all__ = ["MEASURE_VERSION", "ClipMeasure", "MeasureError", "measure_clip"]
