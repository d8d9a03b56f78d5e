"""The film of one room: the API the server calls.

::

    film = Film(room.clock.now, media_dir_lookup(settings.media_dir))
    film.play("demo/01-platform", starts_at=now + 1.0)    # the first scene
    video, audio = film.subscribe("360p")                 # per peer, add to its connection
    film.prepare(["demo/02-left", "demo/02-right"])       # a vote opened
    film.next("demo/02-left", starts_at=boundary)         # the vote closed
    await film.close()

One `Reader` per rendition reads the clips once for every peer of that rendition; it is
started by the first `subscribe` and lives until `close`. All renditions follow one
`Timeline`, so a phone and the big screen switch branch at the same room-clock instant.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from mobile_bridge.film.errors import FilmClosed
from mobile_bridge.film.source import ClipStream, open_clip
from mobile_bridge.film.timeline import Scene, Timeline

from .reader import (
    DEFAULT_AUDIO_QUEUE,
    DEFAULT_VIDEO_QUEUE,
    Pacer,
    Reader,
    RealTimePacer,
)
from .track import FilmTrack

logger = logging.getLogger(__name__)

ClipFiles = Path | tuple[Path, Path]  # one MPEG-TS, or video and a sibling audio file
MediaLookup = Callable[[str, str], ClipFiles]


def media_dir_lookup(media_dir: Path) -> MediaLookup:
    """Clips as ingest stores them: ``MEDIA_DIR/<media id>/<rendition>.ts``."""

    def lookup(clip: str, rendition: str) -> ClipFiles:
        return media_dir / clip / f"{rendition}.ts"

    return lookup


class Film:
    """A room's film: its schedule, one reader per rendition, tracks per peer.

    Args:
        room_clock: room-clock seconds (``RoomClock.now``); packets are sent when due on it.
        media_lookup: where a clip's rendition is on disk (`media_dir_lookup`).
        pacer: how to wait on the room clock; real time on the event loop by default.
        video_queue, audio_queue: each peer queue's bound, in packets.
        catch_up_s: a late joiner starts from the current keyframe if it is at most this
            old, else from the next one.
        direct: send straight to each peer's SRTP transport (`direct`); False leaves
            packing and sending to aiortc's `RTCRtpSender` (for comparison).
    """

    def __init__(
        self,
        room_clock: Callable[[], float],
        media_lookup: MediaLookup,
        *,
        pacer: Pacer | None = None,
        video_queue: int = DEFAULT_VIDEO_QUEUE,
        audio_queue: int = DEFAULT_AUDIO_QUEUE,
        catch_up_s: float = 0.25,
        direct: bool = True,
    ) -> None:
        self._now = room_clock
        self._direct = direct
        self._lookup = media_lookup
        self._pacer = pacer if pacer is not None else RealTimePacer(room_clock)
        self._queues = (video_queue, audio_queue)
        self._catch_up_s = catch_up_s
        self.timeline = Timeline()
        self.readers: dict[str, Reader] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    def play(self, clip: str, starts_at: float) -> Scene:
        """Play ``clip`` from ``starts_at`` on: the first scene, or a hard cut.

        Whatever plays is cut at ``starts_at``; a start already past is moved to now.

        Raises:
            TimelineError: ``no-clip``. FilmClosed: after `close`.
        """
        scene = self._schedule(clip, starts_at)
        self._prepare(())
        return scene

    def next(self, clip: str, starts_at: float) -> Scene:
        """The scene after the one playing: ``clip`` from ``starts_at`` (the boundary).

        Called again before ``starts_at`` it replaces that choice (a variant). The other
        pre-read candidates are released.

        Raises:
            TimelineError: ``no-clip``. FilmClosed: after `close`.
        """
        scene = self._schedule(clip, starts_at)
        self._prepare(self.timeline.candidates & {clip})
        return scene

    def prepare(self, candidates: Iterable[str]) -> None:
        """A vote opened: pre-read the first GOP of every clip that may come next.

        Raises:
            FilmClosed: after `close`.
        """
        self._check_open()
        self._prepare(candidates)

    def subscribe(self, rendition: str) -> tuple[FilmTrack, FilmTrack]:
        """A new peer's (video, audio) tracks of ``rendition``; add both to its connection.

        Raises:
            FilmClosed: after `close`.
        """
        self._check_open()
        reader = self.readers.get(rendition)
        if reader is None:
            reader = self._start_reader(rendition)
        return (
            FilmTrack("video", reader.video, direct=self._direct),
            FilmTrack("audio", reader.audio, direct=self._direct),
        )

    def stats(self) -> dict[str, dict[str, int]]:
        """Per rendition: peers, packets published, dropped for slow peers, late, refused."""
        return {
            name: {
                "peers": len(r.video.peers),
                "published": r.video.published + r.audio.published,
                "dropped": r.video.dropped + r.audio.dropped,
                "resyncs": r.video.resyncs + r.audio.resyncs,
                "late_video_packets": r.late_packets,
                "refused": r.refused,
                "unreadable_clips": r.unreadable_clips,
            }
            for name, r in self.readers.items()
        }

    async def close(self, timeout_s: float = 5.0) -> None:
        """Stop every reader; peers' tracks end (their `recv()` raises MediaStreamError)."""
        self._closed = True
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            async with asyncio.timeout(timeout_s):
                await asyncio.wait(self._tasks)
        self._tasks.clear()

    def _check_open(self) -> None:
        if self._closed:
            raise FilmClosed()

    def _schedule(self, clip: str, starts_at: float) -> Scene:
        self._check_open()
        now = self._now()
        if starts_at < now:
            logger.warning("film-scene-late %s by %.3f s", clip, now - starts_at)
            starts_at = now
        scene = self.timeline.schedule(clip, starts_at, now)
        for reader in self.readers.values():
            reader.poke()
        return scene

    def _prepare(self, candidates: Iterable[str]) -> None:
        clips = self.timeline.prepare(candidates)
        for reader in self.readers.values():
            reader.prepare(clips)

    def _start_reader(self, rendition: str) -> Reader:
        def open_rendition(clip: str) -> ClipStream:
            files = self._lookup(clip, rendition)
            if isinstance(files, tuple):
                return open_clip(files[0], files[1])
            return open_clip(files)

        video_queue, audio_queue = self._queues
        reader = Reader(
            self.timeline, open_rendition, self._pacer, name=rendition,
            video_queue=video_queue, audio_queue=audio_queue, catch_up_s=self._catch_up_s,
        )  # fmt: skip
        reader.prepare(self.timeline.candidates)
        self.readers[rendition] = reader
        task = asyncio.create_task(reader.run(), name=f"film-reader-{rendition}")
        self._tasks.add(task)
        task.add_done_callback(self._reader_done)
        return reader

    def _reader_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (exc := task.exception()) is not None:
            logger.error("film-reader-failed %s", task.get_name(), exc_info=exc)


__all__ = ["ClipFiles", "Film", "MediaLookup", "media_dir_lookup"]
