"""Clips in the media folder, as a generation backend sees them: pictures in, pictures out.

Reading: a film clip is a media id the manifest lists (`mobile_bridge.media.library`);
its rendition files are H.264 in MPEG-TS with a keyframe every second. `FrameReader`
decodes one forward from any time, seeking by the manifest's keyframe byte offsets
(FFmpeg's timestamp seek in MPEG-TS lands a keyframe late as often as not), so a shot
taken from the middle of a long clip costs at most one GOP of decoding. Clip time is
measured from the first video frame: frame ``k`` of a 30 fps clip is at ``k / 30`` s.

Writing: a generated clip is encoded into every rendition of the job with the same
code as the demo film (`mobile_bridge.demo_film.encode_renditions`: `RenditionWriter`,
``ultrafast``, Opus in 60 ms frames, indexed and hashed), so the film plays it exactly
like an ingested clip, and recorded as ``generated/<job id>`` with source
``generated:<backend>``. The manifest is read-modified-written by the server and by
every worker process: the update holds an exclusive ``flock`` on
``MEDIA_DIR/.manifest.lock`` (ingest and the demo film, run by hand before a
screening, do not take it).

Errors are `GenerationError` with codes ``clip-missing`` (not in the manifest, or its
file is gone), ``clip-unreadable`` (FFmpeg cannot decode it) and ``clip-bad-job`` (a job id
or rendition name that cannot name a file). Everything here blocks.
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import av
import av.container
import numpy as np
import numpy.typing as npt

from genmodels.backend import GenerationError
from genmodels.jobs import Job
from genmodels.retention import GENERATED
from mobile_bridge.media.clipnames import is_media_id
from mobile_bridge.media.encoding import encode_renditions
from mobile_bridge.media.errors import MediaError
from mobile_bridge.media.library import MediaLibrary, RenditionMedia
from mobile_bridge.media.manifest import Manifest, MediaEntry, Source, manifest_lock
from mobile_bridge.media.renditions import AUDIO_RATE, Rendition, parse_renditions

Frame = npt.NDArray[np.uint8]  # height × width × 3, RGB
Sound = npt.NDArray[np.float32]  # 2 × samples, 48 kHz
#: The frame rate of every generated clip (the demo film's, and ingest's ceiling).
GENERATED_FPS = Fraction(30)
#: x264's fastest preset: a fill-in races its boundary (the montage spends a third of its
#: time encoding), and the stream bitrate, not the preset, bounds what phones receive.
GENERATED_PRESET = "ultrafast"


def find_media(media_dir: Path, media_id: str, width: int | None = None) -> RenditionMedia:
    """The rendition of ``media_id`` to read: the narrowest at least ``width`` wide, else the
    widest (``width`` None: the widest).

    Raises:
        GenerationError: ``clip-missing``.
    """
    try:
        library = MediaLibrary(media_dir)
        names = [n for n in library.renditions(media_id) if library.has(media_id, n)]
        if not names:
            raise GenerationError("clip-missing", f"{media_id}: not in the media folder")
        entry = library.manifest.media[media_id]
        by_width = sorted(names, key=lambda n: entry.renditions[n].width)
        fits = [n for n in by_width if width is not None and entry.renditions[n].width >= width]
        return library.rendition(media_id, (fits or by_width[-1:])[0])
    except MediaError as exc:
        raise GenerationError("clip-missing", f"{media_id}: {exc}") from exc


class _Tail(io.RawIOBase):
    """A file seen from ``offset`` on: FFmpeg's demuxer then starts at a keyframe's PES."""

    def __init__(self, file: BinaryIO, offset: int) -> None:
        self._file, self._offset = file, offset
        file.seek(offset)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        return self._file.readinto(buffer)  # type: ignore[attr-defined, no-any-return]

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        base = self._offset if whence == io.SEEK_SET else 0
        return self._file.seek(base + pos, whence) - self._offset

    def tell(self) -> int:
        return self._file.tell() - self._offset


class FrameReader:
    """Frames of one rendition file at increasing times, decoded forward, RGB on demand.

    `frame_at` returns the frame showing nearest ``t_s``; asking for an earlier time, or
    one more than a second ahead, reopens the file at the keyframe before it. Past the
    end it holds the last frame. ``decode_s`` accumulates the seconds spent decoding.
    """

    def __init__(self, media: RenditionMedia) -> None:
        self.media = media
        self.size = (media.info.width, media.info.height)
        self.duration_s = media.info.duration_s
        self.decode_s = 0.0
        fps = media.info.fps or float(GENERATED_FPS)
        self._half = 0.5 / fps
        self._origin = media.info.keyframes[0][0] if media.info.keyframes else 0.0
        self._file: BinaryIO | None = None
        self._container: av.container.InputContainer | None = None
        self._frames: Iterator[av.VideoFrame] = iter(())
        self._current: tuple[float, av.VideoFrame] | None = None
        self._next: tuple[float, av.VideoFrame] | None = None
        self._rgb: Frame | None = None

    def _advance(self) -> tuple[float, av.VideoFrame] | None:
        frame = next(self._frames, None)
        if frame is None or frame.time is None:
            return None
        return frame.time - self._origin, frame

    def _open(self, t_s: float) -> None:
        self.close()
        keyframes = self.media.info.keyframes
        offsets = [o for pts, o in keyframes if pts - self._origin <= t_s + self._half]
        self._file = self.media.path.open("rb")
        try:
            self._container = av.open(_Tail(self._file, offsets[-1] if offsets else 0), "r")
            self._frames = self._container.decode(video=0)
            self._current = self._advance()
            self._next = self._advance()
        except (av.FFmpegError, IndexError) as exc:
            self.close()
            raise GenerationError("clip-unreadable", f"{self.media.path}: {exc}") from exc
        if self._current is None:
            raise GenerationError("clip-unreadable", f"{self.media.path}: no video frames")

    def frame_at(self, t_s: float) -> Frame:
        """The RGB frame showing at ``t_s`` seconds into the clip (nearest frame).

        Raises:
            GenerationError: ``clip-unreadable``.
        """
        began = time.perf_counter()
        current = self._current
        if current is None or t_s < current[0] - self._half or t_s > current[0] + 1.0:
            self._open(t_s)
        try:
            while self._next is not None and self._next[0] <= t_s + self._half - 1e-6:
                self._current, self._next, self._rgb = self._next, self._advance(), None
        except av.FFmpegError as exc:
            raise GenerationError("clip-unreadable", f"{self.media.path}: {exc}") from exc
        assert self._current is not None
        if self._rgb is None:
            self._rgb = np.asarray(self._current[1].to_ndarray(format="rgb24"), np.uint8)
        self.decode_s += time.perf_counter() - began
        return self._rgb

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
        if self._file is not None:
            self._file.close()
        self._container, self._file, self._current, self._next = None, None, None, None
        self._rgb = None

    def __enter__(self) -> FrameReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def even_times(duration_s: float, count: int) -> list[float]:
    """The middles of ``count`` equal parts of ``duration_s``."""
    return [(k + 0.5) * duration_s / count for k in range(count)]


def read_frames(
    media_dir: Path,
    media_id: str,
    *,
    times_s: Sequence[float] | None = None,
    count: int = 8,
    width: int | None = None,
) -> list[Frame]:
    """Frames of ``media_id`` at ``times_s``, or ``count`` frames evenly over the clip
    (the middle of each of ``count`` equal parts), from the rendition `find_media` picks.

    Raises:
        GenerationError: ``clip-missing``, ``clip-unreadable``.
    """
    with FrameReader(find_media(media_dir, media_id, width)) as reader:
        if times_s is None:
            times_s = even_times(reader.duration_s, count)
        return [reader.frame_at(t).copy() for t in times_s]


def _planes(frame: av.AudioFrame) -> Sound:
    return np.asarray(frame.to_ndarray(), np.float32)


def read_audio(media_dir: Path, media_id: str) -> Sound:
    """The whole sound of ``media_id`` as ``(2, samples)`` float32 at 48 kHz (empty: none).

    Raises:
        GenerationError: ``clip-missing``, ``clip-unreadable``.
    """
    media = find_media(media_dir, media_id, 0)  # the smallest: same Opus, less to demux
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
    chunks: list[Sound] = []
    try:
        with av.open(str(media.path)) as container:
            if not container.streams.audio:
                return np.zeros((2, 0), np.float32)
            for frame in container.decode(audio=0):
                frame.pts = None
                chunks.extend(_planes(f) for f in resampler.resample(frame))
            chunks.extend(_planes(f) for f in resampler.resample(None))
    except av.FFmpegError as exc:
        raise GenerationError("clip-unreadable", f"{media.path}: {exc}") from exc
    if not chunks:
        return np.zeros((2, 0), np.float32)
    return np.concatenate(chunks, axis=1).astype(np.float32)


def job_renditions(job: Job) -> tuple[Rendition, ...]:
    """The renditions the job's room plays (``job.renditions``).

    Raises:
        GenerationError: ``clip-bad-job`` for an unknown rendition name.
    """
    try:
        return parse_renditions(job.renditions)
    except MediaError as exc:
        raise GenerationError("clip-bad-job", str(exc)) from exc


def generated_id(job: Job) -> str:
    """The media id of the job's clip: ``generated/<job.id>``.

    Raises:
        GenerationError: ``clip-bad-job`` when the job id cannot be a folder name.
    """
    media_id = f"{GENERATED}/{job.id}"
    if not is_media_id(media_id):
        raise GenerationError("clip-bad-job", f"job id {job.id!r} cannot name a media folder")
    return media_id


def write_clip(
    job: Job,
    media_dir: Path,
    frames: Iterable[Sequence[Frame]],
    sound: Sound,
    *,
    backend: str,
    progress: Callable[[float], None] | None = None,
) -> str:
    """Encode a generated clip into every rendition of ``job`` and record it in the manifest.

    Args:
        job: the job (its id names the clip; its renditions say which files to write).
        media_dir: the media folder.
        frames: per output frame at `GENERATED_FPS`, one RGB frame per rendition of
            `job_renditions` in that order, each at its rendition's size.
        sound: ``(2, samples)`` float32 at 48 kHz; padded with silence to the picture.
        backend: what made it: the manifest source becomes ``generated:<backend>``.
        progress: called with seconds of clip encoded, once a second.

    Returns:
        The clip's media id, ``generated/<job.id>``.

    Raises:
        GenerationError: ``clip-bad-job``.
    """
    renditions = job_renditions(job)
    media_id = generated_id(job)
    samples = int(round(job.duration_s * GENERATED_FPS) * AUDIO_RATE / GENERATED_FPS)
    if sound.shape[1] < samples:  # the film expects an audio track: silence it is
        sound = np.pad(sound, ((0, 0), (0, samples - sound.shape[1])))
    pictures = ([av.VideoFrame.from_ndarray(f, format="rgb24") for f in row] for row in frames)
    made = encode_renditions(
        media_dir,
        media_id,
        renditions,
        GENERATED_FPS,
        pictures,
        np.ascontiguousarray(sound[:, :samples]),
        preset=GENERATED_PRESET,
        progress=progress,
    )
    digest = hashlib.sha256(job.model_dump_json().encode()).hexdigest()
    duration_s = min(f.duration_s for f in made.values())
    entry = MediaEntry(
        source=Source(path=f"generated:{backend}", size=0, sha256=digest),
        duration_s=round(duration_s, 6),
        renditions=made,
    )
    Manifest.record(media_dir, media_id, entry)
    return media_id


__all__ = [
    "GENERATED_FPS",
    "Frame",
    "FrameReader",
    "Sound",
    "even_times",
    "find_media",
    "generated_id",
    "job_renditions",
    "manifest_lock",
    "read_audio",
    "read_frames",
    "write_clip",
]
