"""Generated fill-in scenes through a live server: a job that finishes in time plays its
clip at the boundary (pages told "AI-generated", provenance recorded and reported); a job
that is slow, fails or misses the style plays the fallback on time, never a stall."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from genmodels.backend import GenerationError, JobContext, Output, StyleRejected, WorkerConfig
from genmodels.jobs import Job, Provenance
from genmodels.local_queue import LocalQueue
from mobile_bridge.client import PhoneClient
from mobile_bridge.join import join_room
from mobile_bridge.protocol import DecisionMessage, State, VoteOpen
from server.report import build_report
from server.settings import Settings
from tests.mobile_bridge.film.clips import colour_of, make_clip, make_film
from tests.server.conftest import LiveServer, running, settings_for
from tests.timing import within

STORY = """
kinoroom: 1
title: The bridge
start: hall
style: {references: [t/hall], threshold: 0.6}
scenes:
  hall:
    media: t/hall
    duration: 3
    choice:
      at: 0.2
      window: 1.0
      prompt: Which way?
      default: bridge
      options:
        - {id: bridge, label: Over the bridge, goto: bridge}
        - {id: back, label: Back, goto: back}
  bridge:
    media: t/red
    duration: 3
    generate: {backend: montage, prompt: A bridge at dusk, title: Meanwhile, seed: 7}
    ending: true
  back: {media: t/blue, duration: 3, ending: true}
"""


@dataclass
class FakeMontage:
    """Stands in for a backend: copies a magenta clip made beforehand (so a job takes no
    time worth measuring), or fails; with ``held``, only once the test releases it (a
    job that is late because the test says so, not because the machine is slow)."""

    media_dir: Path
    held: bool = False
    fail: GenerationError | None = None
    audio: bool = True
    name: str = "montage"
    release: threading.Event = field(default_factory=threading.Event)
    runs: int = 0  # jobs it was asked to make

    def prepare(self, seconds: float) -> None:
        make_clip(self.media_dir / "made" / "clip.ts", "magenta", seconds=seconds, audio=self.audio)

    def run(self, job: Job, context: JobContext) -> Output:
        self.runs += 1
        context.progress(0.5, "compose")
        if self.held:
            assert self.release.wait(within(60)), "the test never released the job"
        provenance = Provenance(
            backend="montage", model="film-clips", prompt=job.prompt, seed=job.seed,
            duration_s=job.duration_s, timings={"compose": 0.5}, style_score=0.9,
            worker=context.worker,
        )  # fmt: skip
        if self.fail is not None:
            raise self.fail
        media = f"generated/{job.id}"
        for rendition in job.renditions:
            target = self.media_dir / media / f"{rendition}.ts"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(self.media_dir / "made" / "clip.ts", target)
        return Output(media, provenance)


@contextlib.asynccontextmanager
async def server_with(
    tmp_path: Path, backend: FakeMontage, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[LiveServer]:
    media = backend.media_dir
    make_film(media, {"t/hall": "green", "t/red": "red", "t/blue": "blue"}, seconds=3.0)
    backend.prepare(3.0)  # the bridge scene's length

    def open_queue(settings: Settings) -> LocalQueue:
        config = WorkerConfig(media_dir=media)
        return LocalQueue(config, 1, backends={"montage": backend})

    monkeypatch.setattr("server.services.open_queue", open_queue)
    async with running(settings_for(tmp_path, media_dir=media, gen_margin_s=0.8)) as live:
        yield live


def playing(scene: str) -> Callable[[object], bool]:
    return lambda m: isinstance(m, State) and m.scene == scene


async def screen(
    live: LiveServer, backend: FakeMontage, *, watch: bool = False
) -> tuple[list[State], list[str], str]:
    """Run the story with one phone voting for the bridge; the states it got, the
    colours its film showed (when ``watch``: until a second of the generated clip has
    played), and the room code. A held job is released once the bridge scene started."""
    story_id = await live.story(STORY)
    room = (await live.http.post("/api/rooms", json={"story_id": story_id})).json()
    code = room["code"]
    seat = await join_room(live.url, code, "Ada", http=live.http)
    colours: list[str] = []
    generated_shown = asyncio.Event()
    pc = RTCPeerConnection()
    tasks: set[asyncio.Task[None]] = set()

    async def consume(track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if track.kind == "video":
                    colours.append(colour_of(frame.to_ndarray(format="rgb24")))  # type: ignore[union-attr]
                    if colours.count("magenta") >= 30:  # a second of the generated clip
                        generated_shown.set()

    pc.on("track", lambda track: tasks.add(asyncio.create_task(consume(track))))
    async with (
        PhoneClient(live.url, code, room["host_token"], "host") as host,
        PhoneClient(live.url, code, seat.token) as phone,
    ):
        if watch:
            video = pc.addTransceiver("video", direction="recvonly")
            video.setCodecPreferences(
                [
                    c
                    for c in RTCRtpSender.getCapabilities("video").codecs
                    if c.mimeType == "video/H264"
                ]
            )
            await pc.setLocalDescription(await pc.createOffer())
            answer = await live.http.post(
                f"/api/rooms/{code}/webrtc",
                json={"type": "offer", "sdp": pc.localDescription.sdp},
                headers={"Authorization": f"Bearer {seat.token}"},
            )
            assert answer.status_code == 200, answer.text
            await pc.setRemoteDescription(RTCSessionDescription(answer.json()["sdp"], "answer"))
        opened = asyncio.ensure_future(phone.wait_for(VoteOpen, timeout=within(10)))
        decided = asyncio.ensure_future(phone.wait_for(DecisionMessage, timeout=within(10)))
        scenes = [
            asyncio.ensure_future(phone.wait_for(playing(scene), timeout=within(10)))
            for scene in ("hall", "bridge")
        ]
        await host.host("start")
        await phone.vote((await opened).choice, "bridge")
        assert (await decided).option == "bridge"
        states = [State.model_validate(s.model_dump()) for s in await asyncio.gather(*scenes)]
        backend.release.set()  # a held job comes back now: after its boundary
        if watch:
            async with asyncio.timeout(within(10)):
                await generated_shown.wait()
    await pc.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return states, colours, code


async def report_of(live: LiveServer, code: str) -> dict[str, object]:
    """The room's report once its fill-in's provenance is committed (the room writes it
    with its next batch after the job came back)."""
    async with asyncio.timeout(within(10)):
        while not await live.services.store.generated_assets(code):
            await asyncio.sleep(0.1)
    report = await build_report(live.services.store, code)
    assert report is not None
    return report


@pytest.mark.asyncio
async def test_a_finished_fill_in_plays_at_its_boundary_labelled_and_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    backend = FakeMontage(tmp_path / "media")
    async with server_with(tmp_path, backend, monkeypatch) as live:
        states, colours, code = await screen(live, backend, watch=True)
        bridge = states[-1]
        hall = next(s for s in states if s.scene == "hall")
        assert bridge.starts_at == hall.ends_at  # on time, at the boundary
        assert bridge.media is not None and bridge.media.startswith("generated/")
        assert bridge.generated is not None and bridge.generated.backend == "montage"
        report = await report_of(live, code)
    (asset,) = report["generated"]  # type: ignore[misc]
    assert asset["status"] == "done" and asset["played"] is True
    assert (asset["backend"], asset["model"], asset["prompt"], asset["seed"]) == (
        "montage", "film-clips", "A bridge at dusk", 7,
    )  # fmt: skip
    assert asset["style_score"] == 0.9 and asset["media"] == bridge.media
    # The phone saw the hall, then the generated clip: never the fallback's red.
    switch = colours.index("magenta")
    assert set(colours[:switch]) == {"green"} and "red" not in colours


@pytest.mark.parametrize(
    ("backend_args", "status", "code"),
    [
        ({"held": True}, "late", "finished-late"),
        (
            {"fail": GenerationError("montage-no-sources", "no clips")},
            "failed",
            "montage-no-sources",
        ),
        (
            {
                "fail": StyleRejected(
                    0.31,
                    0.6,
                    Provenance(
                        backend="montage",
                        model="film-clips",
                        prompt="p",
                        seed=7,
                        duration_s=3,
                        style_score=0.31,
                    ),
                )
            },
            "rejected",
            "style-rejected",
        ),
    ],
    ids=["slow", "failed", "off-style"],
)
@pytest.mark.asyncio
async def test_a_slow_failed_or_off_style_fill_in_plays_the_fallback_on_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend_args, status, code
):
    backend = FakeMontage(tmp_path / "media", **backend_args)
    async with server_with(tmp_path, backend, monkeypatch) as live:
        states, _, room_code = await screen(live, backend)
        bridge = states[-1]
        hall = next(s for s in states if s.scene == "hall")
        assert bridge.starts_at == hall.ends_at  # the room did not wait for the job
        assert (bridge.media, bridge.generated) == ("t/red", None)
        room = live.services.rooms.get(room_code)
        assert room is not None and abs(room.clock.now() - bridge.starts_at) < 1.0
        report = await report_of(live, room_code)
    (asset,) = report["generated"]  # type: ignore[misc]
    assert (asset["status"], asset["code"], asset["played"]) == (status, code, False)


@pytest.mark.asyncio
async def test_the_host_sees_each_job_running_then_its_outcome(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    backend = FakeMontage(tmp_path / "media", held=True)  # until the test has seen it overdue
    async with server_with(tmp_path, backend, monkeypatch) as live:
        room = await live.http.post("/api/rooms", json={"story_id": await live.story(STORY)})
        code, token = room.json()["code"], room.json()["host_token"]
        path, auth = f"/api/rooms/{code}/fill-ins", {"Authorization": f"Bearer {token}"}
        assert (await live.http.get(path, headers=auth)).json() == {"jobs": []}
        seat = await join_room(live.url, code, "Ada", http=live.http)
        as_phone = await live.http.get(path, headers={"Authorization": f"Bearer {seat.token}"})
        assert (as_phone.status_code, as_phone.json()["error"]) == (403, "forbidden")
        seen: list[dict[str, object]] = []
        async with PhoneClient(live.url, code, token, "host") as host:
            bridge = asyncio.ensure_future(host.wait_for(playing("bridge"), timeout=within(10)))
            await host.host("start")  # nobody votes: the vote's default is the bridge
            # The board as the host page polls it: queued or running, then overdue once
            # its cue time has passed; the job is held until the board said so.
            async with asyncio.timeout(within(10)):
                while not seen or seen[-1]["phase"] != "overdue":
                    seen += (await live.http.get(path, headers=auth)).json()["jobs"]
                    await asyncio.sleep(0.1)
            backend.release.set()
            await bridge
            async with asyncio.timeout(within(5)):  # the job's result, after its cue time
                while seen[-1]["phase"] != "late":
                    seen += (await live.http.get(path, headers=auth)).json()["jobs"]
                    await asyncio.sleep(0.1)
    phases = [job["phase"] for job in seen]
    assert {job["job"] for job in seen} == {seen[0]["job"]}  # one job, for the one boundary
    assert phases[0] in ("queued", "running") and phases[-1] == "late"
    running = next(job for job in seen if job["phase"] == "running")
    assert (running["stage"], running["fraction"], running["title"]) == (
        "compose", 0.5, "Meanwhile"
    )  # fmt: skip
    assert running["due_in_s"] > 0 and "overdue" in phases  # no result by the cue time
    # The worker saw its deadline pass (or the room did, had the worker not).
    assert seen[-1]["code"] in ("finished-late", "past-deadline") and seen[-1]["due_in_s"] < 0


@pytest.mark.asyncio
async def test_a_room_restored_mid_vote_adopts_its_running_job_and_plays_its_clip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The room fails (a commit) while the bridge's job runs: the restored room asks for
    the job again under the same id, so the queue does not run it twice, and takes its
    result: the generated clip plays at the boundary, not the fallback."""
    backend = FakeMontage(tmp_path / "media", held=True)
    hall_s = within(8.0)  # room for a restore and the job before the bridge's cue time
    story = STORY.replace("duration: 3\n    choice:", f"duration: {hall_s:.1f}\n    choice:")
    assert story != STORY
    async with server_with(tmp_path, backend, monkeypatch) as live:
        room = await live.http.post("/api/rooms", json={"story_id": await live.story(story)})
        code, token = room.json()["code"], room.json()["host_token"]
        seat = await join_room(live.url, code, "Ada", http=live.http)
        async with (
            PhoneClient(live.url, code, token, "host") as host,
            PhoneClient(live.url, code, seat.token) as phone,
        ):
            opened = asyncio.ensure_future(phone.wait_for(VoteOpen, timeout=within(10)))
            bridge = asyncio.ensure_future(
                phone.wait_for(playing("bridge"), timeout=hall_s + within(10))
            )
            await host.host("start")
            vote = await opened
            async with live.commit_fails_once() as failed:
                await phone.vote(vote.choice, "bridge", timeout=within(10))  # acked once back
            assert failed.is_set()
            restored = live.services.rooms.get(code)
            assert restored is not None and restored.owner is not None
            assert restored.owner.failures == 1
            backend.release.set()  # the job finishes now, for the restored room
            state = await bridge
        report = await report_of(live, code)
    assert state.media is not None and state.media.startswith("generated/")
    assert state.generated is not None and backend.runs == 1
    (asset,) = report["generated"]  # type: ignore[misc]
    assert (asset["status"], asset["played"]) == ("done", True)
