"""The host's view of a room's fill-in jobs (`FillIns.board`): queued when submitted,
running with the worker's stage and fraction, overdue once the cue time passes with no
result, then the outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from genmodels.jobs import Job, Progress, Provenance, Result, Update
from narrative.ballots import Pick
from narrative.events import Join, PlayScene, Start, Tick, VoteCast
from narrative.ids import ChoiceId, DeviceId, OptionId, SceneId
from narrative.policies import policy_from_spec
from narrative.screening import Screening
from narrative.validate import load_story
from server.rooms.fill_ins import BOARD_SIZE, FillIns
from server.rooms.inbox import Generated

STORY = load_story(
    """
kinoroom: 1
title: Board
start: hall
scenes:
  hall: {media: t/hall, duration: 10, next: bridge}
  bridge:
    media: t/red
    duration: 5
    generate: {backend: montage, prompt: A bridge at dusk, title: Meanwhile}
    next: end
  end: {media: t/end, duration: 5, ending: true}
""",
    "board.yaml",
)


class RecordingQueue:
    """A queue that keeps what is submitted and lets the test play the worker."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []
        self.listener: Callable[[Update], None] | None = None

    async def start(self) -> None: ...

    async def submit(self, job: Job) -> None:
        self.jobs.append(job)

    def subscribe(self, room: str, listener: Callable[[Update], None]) -> Callable[[], None]:
        self.listener = listener
        return lambda: None

    async def close(self) -> None: ...


class Room:
    def __init__(self, epoch: float = 0.0) -> None:
        self.now = 0.0
        self.queue = RecordingQueue()
        self.inbox: list[Generated] = []
        self.fill_ins = FillIns(
            code="ROOM",
            story=STORY,
            queue=self.queue,
            room_clock=lambda: self.now,
            deliver=self.inbox.append,
            epoch=epoch,
            margin_s=1.0,
        )

    async def play_hall(self, starts_at: float) -> Job:
        hall = PlayScene(SceneId("hall"), None, "t/hall", 0.0, starts_at, starts_at + 10)
        self.fill_ins.feed(hall)
        await asyncio.sleep(0)  # the submission is a task
        return self.queue.jobs[-1]

    def report(self, job: Job, fraction: float, stage: str) -> None:
        assert self.queue.listener is not None
        self.queue.listener(Progress(job=job.id, room="ROOM", scene=job.scene,
                                     fraction=fraction, stage=stage))  # fmt: skip

    def finish(self, job: Job, status: str = "done") -> None:
        assert self.queue.listener is not None
        provenance = Provenance(backend="montage", model="film-clips", prompt=job.prompt,
                                seed=job.seed, duration_s=job.duration_s)  # fmt: skip
        self.queue.listener(
            Result(job=job.id, room="ROOM", scene=job.scene, status=status,  # type: ignore[arg-type]
                   media=f"generated/{job.id}" if status == "done" else None,
                   provenance=provenance, code=None if status == "done" else "montage-failed")
        )  # fmt: skip
        self.judged = self.fill_ins.accept(self.inbox.pop())


@pytest.mark.asyncio
async def test_a_job_is_queued_then_running_then_done():
    room = Room()
    job = await room.play_hall(0.0)
    (view,) = room.fill_ins.board()
    assert (view.job, view.scene, view.title) == (job.id, "bridge", "Meanwhile")
    assert (view.phase, view.stage, view.fraction, view.cue_by) == ("queued", "", 0.0, 9.0)
    room.now = 2.0
    room.report(job, 0.4, "compose")
    (view,) = room.fill_ins.board()
    assert (view.phase, view.stage, view.fraction) == ("running", "compose", 0.4)
    assert room.inbox == []  # progress never reaches the room's inbox
    room.now = 5.0
    room.finish(job)
    (view,) = room.fill_ins.board()
    assert (view.phase, view.fraction, view.code) == ("done", 1.0, None)
    room.now = 20.0  # long past the cue: an outcome stays what it was
    assert room.fill_ins.board()[0].phase == "done"


@pytest.mark.asyncio
async def test_a_job_with_no_result_by_its_cue_time_is_overdue_then_late():
    room = Room()
    job = await room.play_hall(0.0)
    room.report(job, 0.9, "encode")
    room.now = 9.5  # past the cue time (the boundary at 10 less the 1 s margin)
    (view,) = room.fill_ins.board()
    assert (view.phase, view.stage) == ("overdue", "encode")
    room.finish(job)
    (view,) = room.fill_ins.board()
    assert (view.phase, view.code) == ("late", "past-deadline")


@pytest.mark.asyncio
async def test_a_failure_keeps_its_code_and_progress_after_a_result_is_ignored():
    room = Room()
    job = await room.play_hall(0.0)
    room.report(job, 0.3, "decode")
    room.finish(job, "failed")
    room.report(job, 0.8, "encode")  # a straggler from the worker: the outcome stands
    (view,) = room.fill_ins.board()
    assert (view.phase, view.code, view.fraction) == ("failed", "montage-failed", 0.3)


@pytest.mark.asyncio
async def test_the_board_shows_the_latest_jobs_newest_first():
    room = Room()
    jobs = [await room.play_hall(15.0 * i) for i in range(BOARD_SIZE + 3)]
    board = room.fill_ins.board()
    assert [v.job for v in board] == [j.id for j in reversed(jobs)][:BOARD_SIZE]


@pytest.mark.asyncio
async def test_a_new_owner_asks_under_the_same_id_and_judges_the_last_owners_job():
    """An owner that takes the room over (restored, or on another process) asks for the
    job of the scene on screen again: same room, scene and boundary, so the same id, and
    the queue drops it as one it has. The result is the new owner's to judge."""
    dead, taker = Room(epoch=1000.0), Room(epoch=1000.0)
    job = await dead.play_hall(0.0)
    taker.now = 3.0
    again = await taker.play_hall(0.0)  # the restored room feeds the scene on screen
    assert again.id == job.id
    taker.now = 5.0
    taker.finish(job)
    assert taker.judged.fill_in is not None and taker.judged.fill_in.media == f"generated/{job.id}"
    assert taker.judged.record is not None and taker.judged.record.status == "done"
    # Another boundary, or another room that once had the same code, is another job.
    assert (await taker.play_hall(10.0)).id != job.id
    assert (await Room(epoch=2000.0).play_hall(0.0)).id != job.id


VOTING = load_story(
    """
kinoroom: 1
title: Two generated branches
start: hall
scenes:
  hall:
    media: t/hall
    duration: 30
    choice:
      at: 5
      window: 10
      prompt: Which way?
      default: bridge
      options:
        - {id: bridge, label: The bridge, goto: bridge}
        - {id: tower, label: The tower, goto: tower}
  bridge: {media: t/red, duration: 5, generate: {backend: montage, prompt: A bridge}, ending: true}
  tower: {media: t/blue, duration: 5, generate: {backend: montage, prompt: A tower}, ending: true}
""",
    "voting.yaml",
)


async def resumed(screening: Screening) -> list[Job]:
    """The jobs a room restored with ``screening`` asks for again."""
    queue = RecordingQueue()
    fill_ins = FillIns(code="ROOM", story=screening.story, queue=queue, room_clock=lambda: 20.0,
                       deliver=lambda generated: None, epoch=1000.0)  # fmt: skip
    fill_ins.resume(screening)
    await asyncio.sleep(0)  # the submissions are tasks
    return queue.jobs


@pytest.mark.asyncio
async def test_a_restored_room_asks_again_for_its_open_votes_jobs_then_only_the_chosen_one():
    screening = Screening(VOTING, policy_from_spec({"name": "plurality"}), seed=7)
    assert await resumed(screening) == []  # nothing on screen: nothing to ask for
    for event in (Join(DeviceId("a"), 0.0), Start(0.0), Tick(5.0)):
        screening.handle(event)
    assert {job.scene for job in await resumed(screening)} == {"bridge", "tower"}
    screening.handle(VoteCast(DeviceId("a"), ChoiceId("hall"), Pick(OptionId("tower")), 1, 6.0))
    screening.handle(Tick(15.0))  # decided: the tower
    (job,) = await resumed(screening)
    assert job.scene == "tower"
