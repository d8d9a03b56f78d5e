"""Ingest: transcode each clip once into its stream renditions and record it in the manifest.

``kinoroom ingest CLIP... --story FILE`` lands here. Per clip: check the file, hash it,
skip the renditions the manifest says are current (same source SHA-256, same rendition
profile, output file intact), else decode the clip once and feed every missing
rendition from that one decode: an FFmpeg filter graph per rendition (``fps`` to the
fixed rate, ``scale`` + ``pad`` to letterbox into the rendition's size) and a
`RenditionWriter`; AAC or any other audio becomes Opus. Each output is written to a
``.part`` file, indexed (`tsindex`), hashed and renamed into place, and the manifest is
saved after every clip, so an interrupted ingest keeps what it finished.

One bad clip never stops the others: its `IngestError` (code and reason, naming the
file) is returned in its `ClipResult`. Everything here is synchronous CPU work; a server
calls it from an executor.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import av.audio.stream
import av.container
import av.filter
import av.video.stream

from mobile_bridge.media.clipnames import ClipSpec, match_clips
from mobile_bridge.media.errors import IngestError
from mobile_bridge.media.manifest import (
    Manifest,
    MediaEntry,
    RenditionFile,
    Source,
    file_sha256,
    rendition_is_current,
    rendition_relpath,
)
from mobile_bridge.media.progress import ProgressBar
from mobile_bridge.media.renditions import Rendition, RenditionWriter, output_fps
from mobile_bridge.media.tsindex import index_ts

INGEST_PRESET = "veryfast"

#: Called with seconds of the clip done; `ProgressBar.update` fits.
Progress = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class ClipResult:
    """What happened to one clip.

    Attributes:
        path: the clip as given.
        media_id: the id it was ingested as ("" when it matched none).
        status: ``encoded`` (at least one rendition written), ``skipped`` (all current)
            or ``failed``.
        encoded: the renditions written this time.
        duration_s: seconds of film (0 when failed).
        elapsed_s: wall time spent on it.
        error: why it failed.
    """

    path: str
    media_id: str
    status: Literal["encoded", "skipped", "failed"]
    encoded: tuple[str, ...] = ()
    duration_s: float = 0.0
    elapsed_s: float = 0.0
    error: IngestError | None = None


def check_readable(path: Path, file: str) -> int:
    """The size of a clip file that exists, is a file and is not empty.

    Raises:
        IngestError: ``ingest-unreadable`` or ``ingest-empty``.
    """
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise IngestError("ingest-unreadable", file, "no such file") from None
    except OSError as exc:
        raise IngestError("ingest-unreadable", file, exc.strerror or str(exc)) from exc
    if path.is_dir():
        raise IngestError("ingest-unreadable", file, "is a folder, not a clip")
    if not os.access(path, os.R_OK):
        raise IngestError("ingest-unreadable", file, "permission denied")
    if stat.st_size == 0:
        raise IngestError("ingest-empty", file, "the file is empty (0 bytes)")
    return stat.st_size


def finish_rendition(
    media_dir: Path, media_id: str, rendition: Rendition, part: Path, profile: str
) -> RenditionFile:
    """Index and hash a written ``.part`` file, move it into place, describe it."""
    index = index_ts(part)
    relpath = rendition_relpath(media_id, rendition.name)
    final = media_dir / relpath
    sha = file_sha256(part)
    size = part.stat().st_size
    os.replace(part, final)
    return RenditionFile(
        path=relpath,
        profile=profile,
        width=index.width,
        height=index.height,
        fps=0.0,  # filled in by the caller, who knows the fixed rate
        video_kbps=rendition.video_kbps,
        audio=index.audio,
        sha256=sha,
        size=size,
        duration_s=round(index.duration_s, 6),
        keyframes=list(index.keyframes),
    )


def _scaler(
    stream: av.video.stream.VideoStream, rendition: Rendition, fps: Fraction
) -> av.filter.Graph:
    w, h = rendition.width, rendition.height
    graph = av.filter.Graph()
    nodes = [
        graph.add_buffer(template=stream),
        graph.add("fps", f"fps={fps.numerator}/{fps.denominator}"),
        graph.add(
            "scale",
            f"w={w}:h={h}:force_original_aspect_ratio=decrease:force_divisible_by=2",
        ),
        graph.add("pad", f"{w}:{h}:(ow-iw)/2:(oh-ih)/2"),
        graph.add("setsar", "1"),
        graph.add("format", "yuv420p"),
        graph.add("buffersink"),
    ]
    graph.link_nodes(*nodes).configure()
    return graph


def _drain(graph: av.filter.Graph, writer: RenditionWriter) -> None:
    while True:
        try:
            frame = graph.vpull()
        except (av.BlockingIOError, av.EOFError):
            return
        writer.write_video(frame)


def _open_input(path: Path, file: str) -> av.container.InputContainer:
    try:
        return av.open(str(path))
    except av.FFmpegError as exc:
        raise IngestError(
            "ingest-not-media", file, f"not a video FFmpeg can read ({exc.strerror})"
        ) from exc


def transcode(
    path: Path,
    file: str,
    jobs: Sequence[tuple[Rendition, Path]],
    progress: Progress | None = None,
) -> tuple[Fraction, float]:
    """Decode ``path`` once and encode it into every ``(rendition, output file)``.

    Returns:
        The fixed frame rate and the duration in seconds of what was written.

    Raises:
        IngestError: ``ingest-not-media``, ``ingest-no-video``, ``ingest-decode-failed``.
    """
    with _open_input(path, file) as container:
        if not container.streams.video:
            raise IngestError("ingest-no-video", file, "has no video stream")
        video = container.streams.video[0]
        video.thread_type = "AUTO"
        audio: av.audio.stream.AudioStream | None = (
            container.streams.audio[0] if container.streams.audio else None
        )
        fps = output_fps(video.average_rate or video.guessed_rate)
        start = video.start_time or 0
        assert video.time_base is not None
        tb = video.time_base
        try:
            graphs = [_scaler(video, r, fps) for r, _ in jobs]
            writers = [
                RenditionWriter(out, r, fps, audio=audio is not None, preset=INGEST_PRESET)
                for r, out in jobs
            ]
        except av.FFmpegError as exc:  # e.g. a codec FFmpeg knows but cannot decode
            raise IngestError("ingest-not-media", file, f"cannot set up decoding: {exc}") from exc
        streams = [video] if audio is None else [video, audio]
        try:
            for packet in container.demux(streams):
                for frame in packet.decode():
                    if isinstance(frame, av.VideoFrame):
                        for graph, writer in zip(graphs, writers, strict=True):
                            graph.vpush(frame)
                            _drain(graph, writer)
                        if progress is not None and frame.pts is not None:
                            progress(float((frame.pts - start) * tb))
                    elif isinstance(frame, av.AudioFrame):
                        for writer in writers:
                            writer.write_audio(frame)
            for graph, writer in zip(graphs, writers, strict=True):
                graph.vpush(None)
                _drain(graph, writer)
                writer.close()
        except av.FFmpegError as exc:
            for writer in writers:
                writer.abort()
            raise IngestError("ingest-decode-failed", file, f"broken media: {exc}") from exc
        if writers[0].frames == 0:
            raise IngestError("ingest-no-video", file, "its video stream has no frames")
        return fps, writers[0].duration_s


def ingest_clip(
    spec: ClipSpec,
    media_dir: Path,
    renditions: Sequence[Rendition],
    manifest: Manifest,
    progress: Callable[[str, float], ProgressBar] | None = None,
) -> tuple[ClipResult, Manifest]:
    """Ingest one clip; the manifest comes back updated (not saved).

    Raises:
        IngestError: the clip is bad (see the module docstring for the codes).
    """
    began = time.perf_counter()
    source = Path(spec.path)
    size = check_readable(source, spec.path)
    sha = file_sha256(source)
    old = manifest.media.get(spec.media_id)
    kept: dict[str, RenditionFile] = {}
    if old is not None and old.source.sha256 == sha:
        kept = dict(old.renditions)
    elif old is not None:  # a new source: the old renditions are stale
        for stale in old.renditions.values():
            (media_dir / stale.path).unlink(missing_ok=True)
    todo = [
        r
        for r in renditions
        if r.name not in kept
        or not rendition_is_current(media_dir, kept[r.name], r.fingerprint(INGEST_PRESET))
    ]
    if not todo and old is not None:
        result = ClipResult(spec.path, spec.media_id, "skipped", (), old.duration_s)
        return result, manifest
    folder = media_dir / spec.media_id
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [(r, folder / f"{r.name}.ts.part") for r in todo]
    bar = progress(spec.media_id, _probe_duration(source)) if progress else None
    try:
        fps, duration_s = transcode(source, spec.path, jobs, bar.update if bar else None)
        for rendition, part in jobs:
            done = finish_rendition(
                media_dir, spec.media_id, rendition, part, rendition.fingerprint(INGEST_PRESET)
            )
            kept[rendition.name] = done.model_copy(update={"fps": round(float(fps), 3)})
    finally:
        for _, part in jobs:
            part.unlink(missing_ok=True)
    entry = MediaEntry(
        source=Source(path=spec.path, size=size, sha256=sha),
        duration_s=round(duration_s, 6),
        renditions=kept,
    )
    elapsed = time.perf_counter() - began
    if bar is not None:
        bar.finish(f"{', '.join(r.name for r in todo)} in {elapsed:.1f} s")
    result = ClipResult(
        spec.path, spec.media_id, "encoded", tuple(r.name for r in todo), duration_s, elapsed
    )
    return result, manifest.with_entry(spec.media_id, entry)


def _probe_duration(path: Path) -> float:
    try:
        with av.open(str(path)) as container:
            return (container.duration or 0) / 1_000_000
    except av.FFmpegError:
        return 0.0


def ingest_clips(
    args: Iterable[str],
    media_ids: Sequence[str],
    media_dir: Path,
    renditions: Sequence[Rendition],
    progress: Callable[[str, float], ProgressBar] | None = None,
) -> list[ClipResult]:
    """Ingest every clip argument (``PATH`` or ``ID=PATH``, see `clipnames`).

    A failing clip is reported in its result and the next one goes on; the manifest is
    saved after each clip that changed it.

    Args:
        args: the clips as given on the command line.
        media_ids: the story's media ids (`clipnames.story_media_ids`); may be empty
            when every clip is given as ``ID=PATH``.
        media_dir: the media folder (the manifest and ``<id>/<rendition>.ts``).
        renditions: which renditions to make.
        progress: makes a progress bar for a media id and its duration; none if omitted.

    Raises:
        ManifestError: the media folder's manifest cannot be read.
    """
    manifest = Manifest.load(media_dir)
    results: list[ClipResult] = []
    for spec in match_clips(args, media_ids):
        if isinstance(spec, IngestError):
            results.append(ClipResult(spec.file, "", "failed", error=spec))
            continue
        try:
            result, updated = ingest_clip(spec, media_dir, renditions, manifest, progress)
        except IngestError as exc:
            results.append(ClipResult(spec.path, spec.media_id, "failed", error=exc))
            continue
        if updated is not manifest:  # re-read and written under the lock (workers write too)
            manifest = Manifest.record(media_dir, spec.media_id, updated.media[spec.media_id])
        results.append(result)
    return results


__all__ = [
    "INGEST_PRESET",
    "ClipResult",
    "check_readable",
    "finish_rendition",
    "ingest_clip",
    "ingest_clips",
    "transcode",
]
