"""One room's film for one rendition: read packets scene after scene, pace, fan out.

The reader is the async shell around `Timeline` and `FanOut`. It walks the schedule,
reads each scene's clip one GOP ahead in an executor (demuxing is file I/O), waits until
each packet is due on the room clock and publishes it, stamped on the continuous RTP
line, to the video or audio fan-out. Packets become `FilmPacket`s once here and are
shared by every peer: per peer there is a queue slot, never a copy or a re-encode.

A switch needs no work at the boundary: the chosen clip's first GOP was pre-read when
the vote opened (`prepare`), so its keyframe goes out on the tick right after the last
frame of the previous scene. A clip that was not prepared is opened when its scene is
scheduled, which takes milliseconds; only a scene decided after its own start is late,
and then its packets go out at once (their timestamps still say when they were due).

Pacing reads the room clock through a `Pacer`; `RealTimePacer` sleeps on the event
loop, tests may pass a virtual one. Every wait also wakes on a schedule change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable, Iterable
from typing import Protocol

import av

from mobile_bridge.film.source import ClipStream, EncodedPacket, Kind
from mobile_bridge.film.timeline import (
    AUDIO_CLOCK_RATE,
    VIDEO_CLOCK_RATE,
    RtpLine,
    Scene,
    Timeline,
)

from .fanout import FanOut
from .packet import FilmPacket

logger = logging.getLogger(__name__)

DEFAULT_VIDEO_QUEUE = 64  # packets: a little over two 1-s GOPs at 30 fps
DEFAULT_AUDIO_QUEUE = 40  # packets: 2.4 s of 60-ms Opus frames


class Pacer(Protocol):
    """The room clock as the reader needs it."""

    def now(self) -> float:
        """Room-clock seconds."""
        ...

    async def wait(self, until: float, wake: asyncio.Event) -> None:
        """Return at ``until`` (room clock; may be ``inf``), or earlier once ``wake`` is set."""
        ...


class RealTimePacer:
    """Paces on the event loop: room-clock seconds are real seconds."""

    def __init__(self, now: Callable[[], float]) -> None:
        self.now = now

    async def wait(self, until: float, wake: asyncio.Event) -> None:
        delay = until - self.now()
        if delay <= 0 or wake.is_set():
            return
        if math.isinf(delay):
            await wake.wait()
            return
        with contextlib.suppress(TimeoutError):  # our own deadline, not a cancellation
            async with asyncio.timeout(delay):
                await wake.wait()


class Reader:
    """Reads one rendition of the film for every peer that subscribed to it.

    Args:
        timeline: the film's schedule (shared by every rendition's reader).
        open_clip: opens a clip of this rendition (blocking; run in an executor).
        pacer: the room clock.
        video_queue, audio_queue: each peer queue's bound in packets.
        catch_up_s: a new peer starts from a keyframe at most this old (`FanOut`).
    """

    def __init__(
        self,
        timeline: Timeline,
        open_clip: Callable[[str], ClipStream],
        pacer: Pacer,
        *,
        name: str = "",
        video_queue: int = DEFAULT_VIDEO_QUEUE,
        audio_queue: int = DEFAULT_AUDIO_QUEUE,
        catch_up_s: float = 0.25,
    ) -> None:
        self.name = name
        self._timeline = timeline
        self._open_clip = open_clip
        self._pacer = pacer
        self.catch_up_s = catch_up_s
        self.video: FanOut[FilmPacket] = FanOut(video_queue, catch_up_s)
        self.audio: FanOut[FilmPacket] = FanOut(audio_queue, catch_up_s)
        self._lines = {Kind.VIDEO: RtpLine(VIDEO_CLOCK_RATE), Kind.AUDIO: RtpLine(AUDIO_CLOCK_RATE)}
        self._wake = asyncio.Event()
        self._prepared: dict[str, asyncio.Future[ClipStream]] = {}
        self.scenes_started: list[Scene] = []
        self.late_packets = 0  # published more than a frame after they were due
        self.unreadable_clips = 0

    def poke(self) -> None:
        """The schedule changed: re-read it now rather than at the next packet."""
        self._wake.set()

    @property
    def refused(self) -> int:
        """Packets dropped because their timestamp would not have gone up (bad input)."""
        return sum(line.refused for line in self._lines.values())

    def prepare(self, clips: Iterable[str]) -> None:
        """Pre-read the first GOP of each clip; forget other pre-read clips."""
        wanted = set(clips)
        for clip in list(self._prepared):
            if clip not in wanted:
                _close_when_done(self._prepared.pop(clip))
        loop = asyncio.get_running_loop()
        for clip in wanted - self._prepared.keys():
            self._prepared[clip] = loop.run_in_executor(None, self._preread, clip)

    def _preread(self, clip: str) -> ClipStream:
        return self._open_clip(clip).preread()

    async def _open(self, clip: str) -> ClipStream:
        future = self._prepared.pop(clip, None)
        if future is None:
            future = asyncio.get_running_loop().run_in_executor(None, self._open_clip, clip)
        try:
            return await future
        except asyncio.CancelledError:
            _close_when_done(future)
            raise

    async def run(self) -> None:
        """Play the schedule until cancelled; closes every peer queue on the way out."""
        start = self._pacer.now()
        skip_before: float | None = start - self.catch_up_s
        previous: Scene | None = None
        scene = self._timeline.scene_at(start)
        try:
            while True:
                self._wake.clear()
                if scene is None:
                    scene = self._timeline.successor(previous)
                if scene is None:
                    await self._pacer.wait(math.inf, self._wake)  # until the room decides
                    continue
                if await self._play(scene, skip_before):
                    previous = scene
                skip_before = None
                scene = None
        finally:
            self.video.close()
            self.audio.close()
            for future in self._prepared.values():
                _close_when_done(future)
            self._prepared.clear()

    async def _play(self, scene: Scene, skip_before: float | None) -> bool:
        """Play ``scene`` until its cut or its end (True), or until it is replaced (False)."""
        try:
            stream = await self._open(scene.clip)
        except (OSError, av.FFmpegError) as exc:
            # A missing or unreadable clip must not end the film for the room: the
            # picture holds and the next scene plays at its start.
            self.unreadable_clips += 1
            logger.error("film-clip-unreadable %s (%s): %s", scene.clip, self.name, exc)
            return True
        loop = asyncio.get_running_loop()
        self.scenes_started.append(scene)
        logger.debug("film-scene %s at %.3f (%s)", scene.clip, scene.starts_at, self.name)
        waiting_keyframe = skip_before is not None
        pending = loop.run_in_executor(None, stream.next_gop)
        try:
            while True:
                gop = await pending
                if not gop:
                    return True
                pending = loop.run_in_executor(None, stream.next_gop)  # one GOP ahead
                cut = False
                for packet in gop:
                    due = scene.starts_at + packet.pts_s
                    if skip_before is not None and due < skip_before:
                        continue  # a reader that starts mid-scene joins at "now"
                    if waiting_keyframe and packet.kind is Kind.VIDEO:
                        if not packet.keyframe:
                            continue
                        waiting_keyframe = False
                    outcome = await self._wait_for(scene, due)
                    if outcome is None:
                        return False
                    if outcome:
                        self._publish(packet, due)
                    else:
                        cut = True  # later packets of this GOP may still be before the cut
                if cut:
                    return True
        finally:
            _close_when_done(pending, stream)

    async def _wait_for(self, scene: Scene, due: float) -> bool | None:
        """Wait until ``due``: True to play, False if cut, None if the scene was replaced."""
        while True:
            self._wake.clear()
            if not self._timeline.is_live(scene):
                return None
            if not self._timeline.plays(scene, due - scene.starts_at):
                return False
            if due <= self._pacer.now():
                return True
            await self._pacer.wait(due, self._wake)

    def _publish(self, packet: EncodedPacket, due: float) -> None:
        pts = self._lines[packet.kind].stamp(self._timeline.line_time(due))
        if pts is None:
            return
        if packet.kind is Kind.VIDEO:
            if self._pacer.now() - due > 1 / 30:
                self.late_packets += 1
            frame = FilmPacket(packet.data, pts, video=True, keyframe=packet.keyframe)
            self.video.publish(frame, due=due, keyframe=packet.keyframe)
        else:
            self.audio.publish(FilmPacket(packet.data, pts, video=False), due=due, keyframe=True)


def _close_when_done(
    future: asyncio.Future[ClipStream] | asyncio.Future[list[EncodedPacket]],
    stream: ClipStream | None = None,
) -> None:
    """Close a clip once no executor thread reads it any more (never under a reader)."""

    def close(done: asyncio.Future[ClipStream] | asyncio.Future[list[EncodedPacket]]) -> None:
        failed = done.cancelled() or done.exception() is not None  # retrieves the exception
        if stream is not None:
            stream.close()
        elif not failed:
            result = done.result()
            if isinstance(result, ClipStream):
                result.close()

    future.add_done_callback(close)


__all__ = ["Pacer", "Reader", "RealTimePacer"]
