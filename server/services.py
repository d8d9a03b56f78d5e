"""What one running app holds: the store, the committer, the rooms, the tokens, the metrics.

Built by `create_app`'s lifespan from the settings, torn down in the documented order:
stop accepting, say bye to every page (close 1012, come back), stop the rooms, finish
the last commits, close the database.

The media libraries (aiortc, PyAV: the pages' WebRTC peers and the rooms' films) are
imported in a thread once the services run, not before the server answers: they cost
start-up a quarter of a second (`bench/startup.py`). `Services.media` waits for them. A
room opening its film imports PyAV where it is (on the event loop), so the thread must
start at once: started later (once the server listened), a film that opened first
stalled its room for a third of a second (a quick cut's whole vote window).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from genmodels.queue import JobQueue
from genmodels.retention import prune_generated
from narrative.events import AffectSample
from narrative.ids import DeviceId
from narrative.mood import Sample
from narrative.sources import for_storage
from narrative.stories import BUNDLED, DEMO
from server.admission import Door
from server.affect_workers import AffectWorkers
from server.budget import Budget, LocalBudget, RedisBudget
from server.gen_queue import open_queue
from server.metrics import Metrics
from server.persistence import Store, StoryRecord
from server.persistence.groups import Groups
from server.ratelimit import KeyedLimiter
from server.rooms.committer import Committer
from server.rooms.inbox import Sensed
from server.rooms.playout import Playout
from server.rooms.registry import Rooms, Seat
from server.rooms.room import Room
from server.settings import Settings
from server.stopping import stop_tasks
from server.tokens import Claims, Tokens

if TYPE_CHECKING:
    import av
    from aiortc import MediaStreamTrack

    from mobile_bridge.peers import CameraSink, Peers
    from server.recommend.service import Recommender

PHONE_RENDITION = "360p"
PRUNE_EVERY_S = 3600.0
SCREEN_RENDITION = "720p"

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Services:
    settings: Settings
    store: Store
    committer: Committer
    rooms: Rooms
    tokens: Tokens
    metrics: Metrics
    gen_queue: JobQueue  # fill-in jobs: in-process, or Redis Streams (`server.gen_queue`)
    door: Door  # the one way into a room (codes, tokens, the failed-join budget)
    groups: Groups  # groups that come back, and their rooms
    demo: tuple[Room, Seat | None] | None = None
    bundled: frozenset[str] = frozenset()  # digests of the stories shipped with Kinoroom
    peers: Peers | None = None  # the pages' WebRTC peers, once `media` has loaded them
    camera_sinks: list[CameraSink] = field(default_factory=list)  # who analyses camera frames
    affect: AffectWorkers | None = None  # the server-side camera analysis, if enabled
    playout: Playout = field(default_factory=Playout)  # pages' playout reports, per room
    _recommender: Recommender | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    media_loaded: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, settings: Settings) -> Services:
        store = await Store.open(settings.resolved_database_url())
        metrics = Metrics()
        committer = Committer(store, metrics)
        tokens = Tokens(settings.resolved_secret())
        gen_queue = open_queue(settings)
        await gen_queue.start()
        rooms = Rooms(
            store=store, committer=committer, metrics=metrics, settings=settings,
            tokens=tokens, gen_queue=gen_queue,
        )  # fmt: skip
        if settings.cluster:  # this process is a node of many: its rooms over Redis
            rooms = await _cluster_rooms(rooms)
        services = cls(
            settings=settings,
            store=store,
            committer=committer,
            rooms=rooms,
            tokens=tokens,
            metrics=metrics,
            gen_queue=gen_queue,
            door=Door(rooms, tokens, _budget(settings, rooms)),
            groups=Groups(store.engine),
        )
        if settings.affect_workers:
            services.affect = AffectWorkers(
                services.sensed,
                workers=settings.affect_workers,
                analyse_fps=settings.affect_fps,
                landmark_model=settings.landmark_model,
                fer_model=settings.resolved_fer_model(),
            )
            services.camera_sinks.append(services.affect.sink)
        services.tasks.append(asyncio.create_task(committer.run(), name="committer"))
        if settings.gen_keep_hours > 0:
            services.tasks.append(
                asyncio.create_task(
                    _prune_generated(settings.resolved_media_dir(), settings.gen_keep_hours),
                    name="prune-generated",
                )
            )
        restored = await rooms.restore()
        demo = await services.save_story(DEMO.read_text(encoding="utf-8"), DEMO.name)
        bundled = [
            await services.save_story(path.read_text(encoding="utf-8"), path.name, bundled=True)
            for path in BUNDLED
        ]
        services.bundled = frozenset({demo.digest, *(s.digest for s in bundled)})  # for hosts
        if settings.demo_room:
            if settings.cluster:  # another node may run it: the database knows
                restored = [
                    room
                    for record in await store.unfinished_rooms()
                    if record.story_id == demo.id and (room := await rooms.find(record.code))
                ]
            services.demo = await services._demo_room(demo, restored)
        # Last: the thread importing aiortc and PyAV would slow the start-up above down.
        services.media_loaded = asyncio.create_task(services._load_media(), name="media")
        return services

    async def recommender(self) -> Recommender:
        """What a group should watch next. Its libraries (NumPy, PyAV) load on the first
        ask, in a thread, not at start-up."""
        if self._recommender is None:
            recommender = await asyncio.to_thread(_import_recommender)
            media_dir = self.settings.resolved_media_dir()
            self._recommender = recommender(self.store, self.groups, media_dir)
        return self._recommender

    async def media(self) -> Peers:
        """The pages' WebRTC peers, once aiortc and PyAV are loaded (at most a moment
        after start-up; they load in a thread, off the event loop)."""
        assert self.media_loaded is not None, "the services are running"
        await asyncio.shield(self.media_loaded)
        assert self.peers is not None
        return self.peers

    async def _load_media(self) -> None:
        await asyncio.to_thread(_import_media)
        from mobile_bridge.ice import ice_configuration, restrict_host_addresses
        from mobile_bridge.peers import Peers

        settings = self.settings
        restrict_host_addresses(settings.ice_hosts or None)
        secret = settings.turn_password
        turn_password = secret.get_secret_value() if secret is not None else None
        self.peers = Peers(
            ice_configuration(
                stun_urls=settings.stun_urls,
                turn_urls=settings.turn_urls,
                turn_username=settings.turn_username,
                turn_password=turn_password,
            ),
            camera_fps=settings.camera_fps,
        )

    async def _demo_room(self, demo: StoryRecord, restored: list[Room]) -> tuple[Room, Seat | None]:
        """The bundled story's room: the one still running from before a restart, or a new one.

        A restored room's host gets its token again (tokens are signatures of the seat, so
        the reissued one equals the one printed before the restart).
        """
        for room in restored:
            if room.record.story_id == demo.id and not room.ended:
                hosts = [s for s in await self.store.seats(room.code) if s.role == "host"]
                if not hosts:
                    return room, None
                claims = Claims(room.code, hosts[0].device_id, "host")
                return room, Seat(room.code, hosts[0].device_id, "host", self.tokens.issue(claims))
        return await self.rooms.create(story=demo, policy=self.settings.demo_policy)

    async def save_story(
        self, source: str, name: str = "upload", *, bundled: bool = False
    ) -> StoryRecord:
        """Validate and store a story of any format (idempotent: stored once per digest).

        The format comes from the content (`narrative.sources`): a Twee file is kept as the
        story file it converts to, an ink story once its exploration found no error (in a
        worker thread: the runtime may take a second or two on a big story). A ``bundled``
        story is not explored again at every start: the tests explore it in full.

        Raises:
            StoryError: the story has errors.
        """
        stored = await asyncio.to_thread(
            for_storage, source, name, limit=self.settings.ink_explore_limit,
            explore_ink=not bundled,
        )  # fmt: skip
        return await self.store.save_story(
            title=stored.title, digest=stored.digest, source=stored.source, fmt=stored.fmt
        )

    def film_tracks(self, room: Room, role: str) -> tuple[MediaStreamTrack, ...]:
        """The film's tracks for a page of ``role``: phones get 360p, screens 720p."""
        return room.film_tracks(SCREEN_RENDITION if role == "screen" else PHONE_RENDITION)

    def camera_frame(self, device: str, frame: av.VideoFrame) -> None:
        """A phone's camera frame (server-side analysis): counted, handed to each sink."""
        self.metrics.camera_frames.inc()
        for sink in self.camera_sinks:
            sink(device, frame)

    def sensed(self, device: str, sample: Sample) -> None:
        """A sample from the server's camera analysis, into the room the phone is in now
        (dropped when it is in none, or when that room's inbox is full: samples are many
        and each soon stale)."""
        for room in self.rooms:
            if room.has_phone(DeviceId(device)):
                event = AffectSample(
                    DeviceId(device),
                    sample.valence,
                    sample.arousal,
                    sample.engagement,
                    room.clock.now(),
                    sample.heart_rate_bpm,
                )
                room.put_nowait(Sensed(event))  # dropped when the room is swamped
                return

    async def stop(self) -> None:
        if self.media_loaded is not None:
            self.media_loaded.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.media_loaded
        if self.peers is not None:
            await self.peers.close_all()
        if self.affect is not None:
            await self.affect.close()
        await self.rooms.shutdown()
        await self.gen_queue.close()
        await stop_tasks(self.tasks)
        await self.store.close()


def _budget(settings: Settings, rooms: Rooms) -> Budget:
    """Each address's failed-join budget: in memory, or in Redis shared by a cluster."""
    rate, burst = settings.join_attempts_per_min / 60.0, settings.join_attempts_per_min
    if settings.cluster:
        from server.cluster.node import ClusterRooms

        assert isinstance(rooms, ClusterRooms)
        return RedisBudget(rooms.redis, settings.cluster_prefix, rate=rate, burst=burst)
    return LocalBudget(KeyedLimiter(rate=rate, burst=burst))


async def _cluster_rooms(local: Rooms) -> Rooms:
    """This process as a node of a cluster (`server.cluster`): the same parts as a single
    process's rooms, over Redis."""
    from server.cluster.checks import check_cluster_settings
    from server.cluster.node import ClusterRooms

    check_cluster_settings(local.settings)
    rooms = ClusterRooms.of(local)
    await rooms.start()
    return rooms


def _import_recommender() -> type[Recommender]:
    from server.recommend.service import Recommender

    return Recommender


def _import_media() -> None:
    """What the pages' peers and the rooms' films import: aiortc, PyAV and ours."""
    import mobile_bridge.film
    import mobile_bridge.ice
    import mobile_bridge.peers
    import mobile_bridge.rtp_origin  # noqa: F401


async def _prune_generated(media_dir: Path, keep_hours: float) -> None:
    """Delete generated clips older than ``keep_hours``: now, then every hour."""
    while True:
        try:
            pruned = await asyncio.to_thread(prune_generated, media_dir, keep_hours * 3600)
        except Exception:  # an unreadable manifest: say so, try again in an hour
            log.exception("generated clips not pruned")
        else:
            if pruned.removed:
                log.info("generated clips pruned: %d (%.1f MB), %d kept",
                         len(pruned.removed), pruned.bytes / 1e6, pruned.kept)  # fmt: skip
        await asyncio.sleep(PRUNE_EVERY_S)


__all__ = ["Services"]
