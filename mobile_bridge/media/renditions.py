"""Stream renditions: the one encoding every clip gets before a phone ever sees it.

DESIGN.md ("Media: passthrough, never re-encode per phone") measured that the server can
only afford to forward packets, so every clip is encoded once, at ingest, into a form the
film track can send as-is to any WebRTC peer and switch between at a keyframe:

- **H.264 constrained baseline** (x264 ``profile=baseline`` sets constraint_set0/1, so
  FFmpeg reports "Constrained Baseline"): every browser decodes it in hardware.
- **Annex-B in MPEG-TS**: aiortc's passthrough drops MP4-framed (avcC) H.264.
- **No B-frames** (``bf=0``) and ``tune=zerolatency``: packets leave in display order, so
  decode time equals presentation time and the track can pace by pts alone.
- **A fixed GOP of 1 s** (``g = keyint_min = fps``, ``sc_threshold=0``, ``scenecut=0``): a
  new or lagging peer and a branch switch wait at most one second for a keyframe.
- **SPS/PPS before every keyframe** (x264 ``repeat-headers=1``): a peer that starts at any
  keyframe can decode it without out-of-band parameter sets.
- **A fixed frame rate**: the source's when it is 30 fps or less, else 30 fps.
- **Opus, 48 kHz stereo, 60 ms frames** in the same ``.ts``: AAC is dropped by aiortc
  passthrough, and 20 ms frames cost ~40 % more fan-out CPU (three times the packets).
  FFmpeg's MPEG-TS muxer carries Opus (stream type 0x06 with an ``Opus`` registration
  descriptor) and its demuxer gives the raw Opus packets back, so no sibling file is
  needed.

`RenditionWriter` encodes frames that already have the rendition's size into one such
file; ingest (`mobile_bridge.media.ingest`) and the demo film (`mobile_bridge.demo_film`) both
use it. The module does CPU work synchronously: a server calls it from an executor.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import av.audio.stream
import av.container
import av.video.stream

from mobile_bridge.media.errors import UnknownRendition

#: Bump when the encoder settings below change: every rendition is re-encoded on next ingest.
ENCODING_VERSION = 1
MAX_FPS = 30
AUDIO_RATE = 48_000
AUDIO_FRAME_MS = 60
#: Samples per Opus frame: 60 ms at 48 kHz.
AUDIO_FRAME_SAMPLES = AUDIO_RATE * AUDIO_FRAME_MS // 1000


@dataclass(frozen=True, slots=True)
class Rendition:
    """One stream profile: picture size, bitrates and the H.264 level that fits them.

    Attributes:
        name: the id used on the command line, in file names and in the manifest.
        width, height: the picture size; sources of another shape are letterboxed.
        video_kbps: target video bitrate (the VBV cap is 1.2× this).
        audio_kbps: Opus bitrate.
        level: the H.264 level x264 writes in the SPS.
    """

    name: str
    width: int
    height: int
    video_kbps: int
    audio_kbps: int
    level: str

    def fingerprint(self, preset: str) -> str:
        """A short digest of everything that shapes the output, for re-ingest skips."""
        text = repr((ENCODING_VERSION, preset, sorted(asdict(self).items())))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


RENDITIONS: dict[str, Rendition] = {
    r.name: r
    for r in (
        Rendition("360p", 640, 360, 700, 64, "3.0"),  # phones
        Rendition("720p", 1280, 720, 2000, 96, "3.1"),  # the shared screen
        Rendition("1080p", 1920, 1080, 4000, 128, "4.0"),
    )
}
DEFAULT_RENDITIONS = ("360p", "720p")


def parse_renditions(text: str | Iterable[str]) -> tuple[Rendition, ...]:
    """Renditions from ``"360p,720p"`` or a list of names, in the given order, no repeats.

    Raises:
        UnknownRendition: a name is not a known rendition.
    """
    names = text.split(",") if isinstance(text, str) else list(text)
    chosen: dict[str, Rendition] = {}
    for raw in names:
        name = raw.strip()
        if not name:
            continue
        if name not in RENDITIONS:
            raise UnknownRendition(name, list(RENDITIONS))
        chosen[name] = RENDITIONS[name]
    if not chosen:
        raise UnknownRendition(str(text), list(RENDITIONS))
    return tuple(chosen.values())


def output_fps(source_fps: Fraction | None) -> Fraction:
    """The fixed frame rate of a rendition: the source's when ≤ 30 fps, else 30 fps."""
    if source_fps is None or source_fps <= 0 or source_fps > MAX_FPS:
        return Fraction(MAX_FPS)
    return source_fps


def gop_frames(fps: Fraction) -> int:
    """Frames per GOP: one second of frames, at least one."""
    return max(1, round(fps))


def _video_options(rendition: Rendition, fps: Fraction, preset: str) -> dict[str, object]:
    gop = str(gop_frames(fps))
    return {
        "profile": "baseline",
        "level": rendition.level,
        "preset": preset,
        "tune": "zerolatency",
        "bf": "0",
        "g": gop,
        "keyint_min": gop,
        "sc_threshold": "0",
        "maxrate": f"{rendition.video_kbps * 6 // 5}k",
        "bufsize": f"{rendition.video_kbps * 2}k",
        # repeat-headers: SPS/PPS in front of every IDR; scenecut=0: no extra keyframes.
        "x264-params": "repeat-headers=1:scenecut=0:open-gop=0",
    }


class RenditionWriter:
    """Encodes frames into one rendition file (H.264 + optional Opus in MPEG-TS).

    Video frames must already be ``width × height``; they get consecutive timestamps at
    ``fps`` whatever they carried. Audio frames may have any format, layout and rate;
    they are resampled to 48 kHz stereo, cut into 60 ms frames and stamped by sample
    count. Use as a context manager; `close` flushes both encoders.

    Args:
        path: the ``.ts`` file to write (created or truncated).
        rendition: the profile.
        fps: the fixed frame rate (`output_fps`).
        audio: whether the file gets an Opus track.
        preset: the x264 preset (``veryfast`` for ingest, ``ultrafast`` for generated film).
    """

    def __init__(
        self, path: Path, rendition: Rendition, fps: Fraction, *, audio: bool, preset: str
    ) -> None:
        self.rendition = rendition
        self.fps = fps
        self.frames = 0
        self.samples = 0
        self._container: av.container.OutputContainer = av.open(str(path), "w", format="mpegts")
        video: av.video.stream.VideoStream = self._container.add_stream("libx264", rate=fps)
        video.width, video.height = rendition.width, rendition.height
        video.pix_fmt = "yuv420p"
        video.bit_rate = rendition.video_kbps * 1000
        video.time_base = 1 / fps
        video.codec_context.time_base = 1 / fps
        video.options = _video_options(rendition, fps, preset)
        self._video = video
        self._audio: av.audio.stream.AudioStream | None = None
        self._resampler: av.AudioResampler | None = None
        if audio:
            stream: av.audio.stream.AudioStream = self._container.add_stream(
                "libopus", rate=AUDIO_RATE
            )
            stream.layout = "stereo"
            stream.bit_rate = rendition.audio_kbps * 1000
            stream.options = {"frame_duration": str(AUDIO_FRAME_MS), "application": "audio"}
            self._audio = stream
            self._resampler = av.AudioResampler(
                format="s16", layout="stereo", rate=AUDIO_RATE, frame_size=AUDIO_FRAME_SAMPLES
            )

    @property
    def duration_s(self) -> float:
        """Seconds of video written so far."""
        return float(self.frames / self.fps)

    def write_video(self, frame: av.VideoFrame) -> None:
        """Encode one picture of the rendition's size (any pixel format)."""
        if frame.format.name != "yuv420p":
            frame = frame.reformat(format="yuv420p")
        frame.pts = self.frames
        frame.time_base = self._video.codec_context.time_base
        self.frames += 1
        self._container.mux(self._video.encode(frame))

    def write_audio(self, frame: av.AudioFrame) -> None:
        """Queue sound; it is encoded in 60 ms frames as they fill up.

        Raises:
            ValueError: the writer was opened without audio.
        """
        if self._audio is None or self._resampler is None:
            raise ValueError("this rendition writer has no audio track")
        frame.pts = None
        self._encode_audio(self._resampler.resample(frame))

    def _encode_audio(self, frames: Sequence[av.AudioFrame]) -> None:
        assert self._audio is not None
        for chunk in frames:
            chunk.pts = self.samples
            chunk.time_base = Fraction(1, AUDIO_RATE)
            self.samples += chunk.samples
            self._container.mux(self._audio.encode(chunk))

    def close(self) -> None:
        """Flush the encoders and finish the file."""
        try:
            self._container.mux(self._video.encode(None))
            if self._audio is not None and self._resampler is not None:
                self._encode_audio(self._resampler.resample(None))
                self._container.mux(self._audio.encode(None))
        finally:
            self._container.close()

    def abort(self) -> None:
        """Close the file without flushing (after an error; the caller deletes it)."""
        with contextlib.suppress(av.FFmpegError):
            self._container.close()

    def __enter__(self) -> RenditionWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.close()
        else:
            self.abort()


__all__ = [
    "AUDIO_FRAME_SAMPLES",
    "AUDIO_RATE",
    "DEFAULT_RENDITIONS",
    "ENCODING_VERSION",
    "RENDITIONS",
    "Rendition",
    "RenditionWriter",
    "gop_frames",
    "output_fps",
    "parse_renditions",
]
