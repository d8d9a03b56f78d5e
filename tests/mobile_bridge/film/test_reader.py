"""The film's reader and Film API on a virtual room clock: what each peer is sent.

The virtual clock makes these runs exact and fast: the same packets, decisions and
timestamps every time. Real-time pacing and real WebRTC are in `test_loopback.py`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import Counter

import pytest
from aiortc.mediastreams import MediaStreamError

from mobile_bridge.film import Film, FilmClosed, PeerQueue, media_dir_lookup
from mobile_bridge.film.pacing import Pacing
from mobile_bridge.film.packet import FilmPacket
from mobile_bridge.film.source import Kind, open_clip
from tests.mobile_bridge.film.clips import make_film
from tests.mobile_bridge.film.virtualclock import VirtualClock

TIMEOUT_S = 10
CLIPS = {"a": "red", "b": "green", "c": "blue"}


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    root = tmp_path_factory.mktemp("media")
    make_film(root, CLIPS)
    return root


def clip_video(media, clip):
    """The clip's video payloads in order (what the peer must receive, byte for byte)."""
    stream = open_clip(media / clip / "360p.ts")
    out = []
    while gop := stream.next_gop():
        out += [p.data for p in gop if p.kind is Kind.VIDEO]
    stream.close()
    return out


class Opens(Counter[str]):
    """Counts how often each clip is opened (a prepared clip is opened once)."""

    def lookup(self, media):
        inner = media_dir_lookup(media)

        def lookup(clip, rendition):
            self[clip] += 1
            return inner(clip, rendition)

        return lookup


async def take(track, count):
    out = []
    async with asyncio.timeout(TIMEOUT_S):
        while len(out) < count:
            out.append(await track.recv())
    return out


def film_on(clock, media, opens=None, **kwargs):
    lookup = opens.lookup(media) if opens is not None else media_dir_lookup(media)
    return Film(clock.now, lookup, pacer=clock, **kwargs)


@pytest.mark.asyncio
async def test_the_chosen_branch_follows_at_the_boundary_frame_after_frame(media):
    clock, opens = VirtualClock(), Opens()
    film = film_on(clock, media, opens, video_queue=1000)
    video, _ = film.subscribe("360p")
    video.attach()
    film.play("a", starts_at=0.5)
    clock.at(1.0, lambda: film.prepare(["b", "c"]))  # the vote opens
    clock.at(2.2, lambda: film.next("c", starts_at=2.5))  # and closes before the boundary
    packets = await take(video, 120)
    await film.close()

    assert [bytes(p) for p in packets] == clip_video(media, "a") + clip_video(media, "c")
    steps = {b.pts - a.pts for a, b in itertools.pairwise(packets)}
    assert steps == {3000}  # no gap and no repeat across the switch
    assert packets[60].pts == round((2.5 - 0.5 + 0.0065) * 90_000)
    assert opens == {"a": 1, "b": 1, "c": 1}  # c was pre-read, not opened at the boundary
    assert film.stats()["360p"]["dropped"] == 0


@pytest.mark.asyncio
async def test_a_variant_swapped_before_the_boundary_plays_instead(media):
    clock = VirtualClock()
    film = film_on(clock, media, video_queue=1000, audio_queue=1000)
    video, audio = film.subscribe("360p")
    video.attach()
    audio.attach()
    film.play("a", starts_at=0.0)
    clock.at(1.0, lambda: film.next("b", starts_at=2.0))
    clock.at(1.5, lambda: film.next("c", starts_at=2.0))  # the adaptive variant
    packets = await take(video, 120)
    sound = await take(audio, 60)
    await film.close()
    assert [bytes(p) for p in packets[60:]] == clip_video(media, "c")
    audio_steps = {b.pts - a.pts for a, b in itertools.pairwise(sound)}
    assert audio_steps <= {2880, 960}  # 60-ms frames; the switch lands 20 ms after a's last
    assert min(audio_steps) > 0


@pytest.mark.asyncio
async def test_a_hard_cut_stops_the_scene_playing_at_its_start(media):
    clock = VirtualClock()
    film = film_on(clock, media, video_queue=1000)
    video, _ = film.subscribe("360p")
    video.attach()
    film.play("a", starts_at=0.0)
    clock.at(0.4, lambda: film.play("b", starts_at=1.0))
    packets = await take(video, 90)
    await film.close()
    assert [bytes(p) for p in packets] == clip_video(media, "a")[:30] + clip_video(media, "b")
    assert {b.pts - a.pts for a, b in itertools.pairwise(packets)} == {3000}


@pytest.mark.asyncio
async def test_a_decision_after_the_boundary_plays_at_once_and_says_it_was_late(media, caplog):
    clock = VirtualClock()
    film = film_on(clock, media, video_queue=1000)
    video, _ = film.subscribe("360p")
    video.attach()
    film.play("a", starts_at=0.0)
    caplog.set_level(logging.WARNING, logger="mobile_bridge.film.film")
    clock.at(2.3, lambda: film.next("b", starts_at=2.0))
    packets = await take(video, 120)
    await film.close()
    assert packets[60].pts == round((2.3 + 0.0065) * 90_000)  # the picture held 0.3 s
    assert [bytes(p) for p in packets[60:]] == clip_video(media, "b")
    assert "film-scene-late b" in caplog.text


@pytest.mark.asyncio
async def test_a_rendition_subscribed_mid_scene_starts_on_a_keyframe(media):
    clock = VirtualClock()
    film = film_on(clock, media, video_queue=1000)
    film.play("a", starts_at=0.0)
    clock.t = 1.1  # the first phone of this rendition arrives 0.1 s after a keyframe
    video, _ = film.subscribe("360p")
    packets = await take(video, 30)
    await film.close()
    assert bytes(packets[0]) == clip_video(media, "a")[30]
    assert packets[0].pts == round(1.0065 * 90_000)


@pytest.mark.asyncio
async def test_a_peer_that_stops_reading_stays_bounded_while_others_play_on(media):
    clock = VirtualClock()
    film = film_on(clock, media)  # the default bounds: 64 video packets
    watching, _ = film.subscribe("360p")
    stalled, _ = film.subscribe("360p")
    watching.attach()
    stalled.attach()
    film.play("a", starts_at=0.0)
    film.next("b", starts_at=2.0)
    clock.at(3.0, lambda: film.next("c", starts_at=4.0))
    packets = await take(watching, 180)
    stats = film.stats()["360p"]
    await film.close()
    assert len(packets) == 180 and watching.queue.dropped == 0
    assert stalled.queue.high_water <= 64
    assert stalled.queue.dropped > 0
    assert stats["dropped"] == stalled.queue.dropped
    assert stats["peers"] == 2
    assert stats["hold_ms"] == 0  # a virtual clock: every pass takes no time, nothing held


@pytest.mark.asyncio
async def test_closing_the_film_ends_every_track(media):
    clock = VirtualClock()
    film = film_on(clock, media)
    video, audio = film.subscribe("360p")
    film.play("a", starts_at=0.0)
    await take(video, 1)
    await film.close()
    with pytest.raises(MediaStreamError):
        await take(audio, 1)
    with pytest.raises(MediaStreamError):
        await take(video, 100)
    with pytest.raises(FilmClosed):
        film.subscribe("360p")


@pytest.mark.asyncio
async def test_a_missing_clip_holds_the_picture_and_the_next_scene_still_plays(media, caplog):
    clock = VirtualClock()
    film = film_on(clock, media, video_queue=1000)
    video, _ = film.subscribe("360p")
    video.attach()
    film.play("a", starts_at=0.0)
    film.next("no-such-clip", starts_at=2.0)
    clock.at(2.5, lambda: film.next("b", starts_at=3.0))
    packets = await take(video, 120)
    await film.close()
    assert [bytes(p) for p in packets] == clip_video(media, "a") + clip_video(media, "b")
    assert packets[60].pts == round((3.0 + 0.0065) * 90_000)
    assert film.readers["360p"].unreadable_clips == 1
    assert "film-clip-unreadable no-such-clip" in caplog.text


@pytest.mark.asyncio
async def test_a_text_scene_cuts_the_picture_and_the_next_clip_plays_on_time(media, caplog):
    # A text scene (the pages draw its words): the clip before it stops at its start,
    # nothing is sent during it, and the next clip starts on the same timestamp line.
    clock = VirtualClock()
    film = film_on(clock, media, video_queue=1000)
    video, _ = film.subscribe("360p")
    video.attach()
    film.play("a", starts_at=0.0)
    clock.at(0.5, lambda: film.next(None, starts_at=1.0))
    clock.at(1.5, lambda: film.next("b", starts_at=3.0))
    packets = await take(video, 90)
    await film.close()
    assert [bytes(p) for p in packets] == clip_video(media, "a")[:30] + clip_video(media, "b")
    assert packets[30].pts == round((3.0 + 0.0065) * 90_000)  # a gap, then on time
    assert film.readers["360p"].unreadable_clips == 0
    assert "film-clip" not in caplog.text


class HoldEveryFrame(Pacing):
    """A pacing that holds every video frame 20 ms (the real one learns how long)."""

    def hold(self, size: int, peers: int) -> float:
        return 0.02

    def observe(self, seconds: float, size: int, peers: int, *, keyframe: bool) -> None:
        pass


@pytest.mark.asyncio
async def test_video_frames_leave_when_the_pacing_says_and_audio_when_due(media):
    clock = VirtualClock()
    film = film_on(clock, media, video_queue=1000, audio_queue=1000)
    film.subscribe("360p")
    reader = film.readers["360p"]
    reader.pacing = HoldEveryFrame()
    sent: dict[str, list[tuple[float, FilmPacket]]] = {"video": [], "audio": []}
    enough = asyncio.Event()

    def record(kind: str, queue: PeerQueue[FilmPacket]) -> None:
        while (packet := queue.pop()) is not None:
            sent[kind].append((clock.now(), packet))
        if len(sent["video"]) >= 90:
            enough.set()

    for kind, fanout in (("video", reader.video), ("audio", reader.audio)):
        queues: list[PeerQueue[FilmPacket]] = []
        queues.append(fanout.subscribe(lambda kind=kind, q=queues: record(kind, q[0])))
    film.play("a", starts_at=0.0)
    film.next("b", starts_at=2.0)
    async with asyncio.timeout(TIMEOUT_S):
        await enough.wait()
    await film.close()

    video, audio = sent["video"], sent["audio"]
    assert [bytes(p) for _, p in video[:90]] == clip_video(media, "a") + clip_video(media, "b")[:30]
    assert {b.pts - a.pts for (_, a), (_, b) in itertools.pairwise(video)} == {3000}
    assert all(abs(t - (p.pts / 90_000 + 0.02)) < 1e-4 for t, p in video)  # held 20 ms
    assert all(abs(t - p.pts / 48_000) < 1e-4 for t, p in audio)  # never held
    assert len(audio) > 20
