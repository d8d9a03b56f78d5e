"""A room's generated fill-in scenes: jobs submitted ahead of each boundary, answered in time
or not at all (DESIGN.md, "Generation: deadlines first").

Theory of operation. The screening decides; this only watches its commands:

- `PlayScene` of a scene whose ``next`` is a ``generate`` scene, and `OpenVote` whose
  visible options lead to ``generate`` scenes, submit one job per such scene, with the
  boundary (the end of the scene playing now, less ``margin_s`` so the film can pre-read
  the clip's first GOP) as its deadline, in wall-clock time for workers elsewhere;
- the queue's results come back on the event loop and go into the room's inbox as
  `Generated` items, so the Room handles them in order with everything else;
- `accept` turns a result into a `FillIn` event only when it is a finished clip, for a
  job of the coming boundary, early enough to cue. Anything else is recorded and ignored;
- a job's id is its room's, scene's and boundary's (`job_id`): an owner that takes a
  room over (a restart, a crashed room restored, another process after a failover) asks
  for the same jobs as the owner before it, under the same ids, so the queue runs each
  once (it drops a job id it already has) and the result of a job the last owner
  submitted is this one's to judge: it *adopts* the jobs in flight;
- progress reports go straight to the `board` (`JobView`: queued, running with its stage
  and fraction, then its outcome), which the host page shows; they never reach the
  screening, which needs only the results.

The fallback (the scene's ``media``) is ready before any job starts: it is what the
screening plays unless a `FillIn` was accepted, so a slow, dead or absent worker never
stalls a room; the room never waits on a job.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
import zlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from genmodels.jobs import Job, JobStatus, Update
from genmodels.queue import JobQueue
from narrative.events import Command, FillIn, OpenVote, PlayScene
from narrative.ids import SceneId
from narrative.plot import Plot
from narrative.screening import Screening
from server.persistence.records import AssetRecord
from server.rooms.inbox import Generated, Judged

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Pending:
    scene: SceneId
    boundary: float  # room clock: when the scene is due to start
    prompt: str
    backend: str
    seed: int
    duration_s: float


JOB_IDS = uuid.UUID("6f1e6c1e-6b69-4e6f-9a6f-6f6d2d6a6f62")  # the namespace of `job_id`


def job_id(room: str, epoch: float, scene: SceneId, boundary: float) -> str:
    """The id of the job for ``scene`` at ``boundary`` of the room whose clock started at
    UNIX time ``epoch`` (a room code alone may come back for another room): whichever
    process owns the room asks under the same id."""
    return uuid.uuid5(JOB_IDS, f"{room}:{epoch!r}:{scene}:{boundary:.3f}").hex


JobPhase = Literal["queued", "running", "overdue"] | JobStatus
BOARD_SIZE = 16  # the host sees this many of the room's latest jobs


@dataclass(frozen=True, slots=True)
class JobView:
    """One job as the host sees it. ``phase`` is ``queued`` until a worker reports,
    ``running`` while it does, ``overdue`` once its cue time passed with no result (the
    fallback plays), then the outcome: ``done`` (cued), ``late``, ``failed``, ``rejected``.
    ``cue_by`` is on the room clock: the last moment a clip can still be cued."""

    job: str
    scene: SceneId
    title: str  # its title card's text, or the scene id
    backend: str
    phase: JobPhase
    stage: str
    fraction: float
    cue_by: float
    code: str | None = None


class FillIns:
    """Submits a room's fill-in jobs and judges their results (see the module doc)."""

    def __init__(
        self,
        *,
        code: str,
        story: Plot,
        queue: JobQueue,
        room_clock: Callable[[], float],
        deliver: Callable[[Generated], None],
        seed: int = 0,
        epoch: float = 0.0,
        margin_s: float = 1.5,
        renditions: tuple[str, ...] = ("360p", "720p"),
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._code = code
        self._story = story
        self._queue = queue
        self._now = room_clock
        self._deliver = deliver
        self._seed = seed
        self._epoch = epoch
        self._margin_s = margin_s
        self._renditions = renditions
        self._wall = wall
        self._pending: dict[str, _Pending] = {}  # job id -> what it is for
        self._submitted: set[tuple[SceneId, float]] = set()
        self._boundary = 0.0  # room clock: the end of the scene playing now
        self._board: OrderedDict[str, JobView] = OrderedDict()  # job id -> latest view
        self._tasks: set[asyncio.Task[None]] = set()
        self._unsubscribe = queue.subscribe(code, self._on_update)

    # -- watching the screening ---------------------------------------------------------

    def feed(self, command: Command | FillIn) -> None:
        match command:
            case PlayScene(scene=scene, ends_at=ends_at):
                self._boundary = ends_at  # votes that open in this scene lead past it
                following = self._story.scene(scene).next
                if following is not None:
                    self._submit(SceneId(following), ends_at)
            case OpenVote(choice=choice, options=visible):
                spec = self._story.scene(choice).choice
                assert spec is not None
                goto = {o.id: SceneId(o.goto) for o in spec.options}
                for option in visible:
                    self._submit(goto[option], self._boundary)

    def resume(self, screening: Screening) -> None:
        """A restored room (a restart, a crash, a takeover): ask again for the jobs of the
        scene on screen and of the vote it opened (only the branch it chose, once it has
        decided). Under the same ids, the queue already has them: this owner adopts them."""
        if (playing := screening.now_playing) is None:
            return
        self.feed(playing)
        vote = screening.vote
        if (opened := screening.opened_vote) is not None and vote is not None:
            decided = vote.decided
            self.feed(opened if decided is None else replace(opened, options=(decided,)))

    def _submit(self, scene_id: SceneId, boundary: float) -> None:
        scene = self._story.scene(scene_id)
        spec = scene.generate
        if spec is None or (scene_id, boundary) in self._submitted:
            return
        self._submitted.add((scene_id, boundary))
        seed = spec.seed if spec.seed is not None else self._derived_seed(scene_id, boundary)
        style = self._story.style
        own = (scene.media,) if scene.media is not None else ()  # a text scene has no clip
        sources = tuple(spec.sources) or (tuple(style.references) if style else own)
        cue_by = boundary - self._margin_s
        job = Job(
            id=job_id(self._code, self._epoch, scene_id, boundary),
            room=self._code,
            scene=scene_id,
            backend=spec.backend,
            prompt=spec.prompt,
            duration_s=scene.duration,
            seed=seed,
            deadline=self._wall() + (cue_by - self._now()),
            sources=sources,
            title=spec.title,
            model=spec.model,
            style=style,
            renditions=self._renditions,
        )
        self._pending[job.id] = _Pending(
            scene_id, boundary, spec.prompt, spec.backend, seed, scene.duration
        )
        title = spec.title or scene_id
        self._show(JobView(job.id, scene_id, title, spec.backend, "queued", "", 0.0, cue_by))
        log.info("fill-in submitted: %s for %s (%s, due in %.1f s)",
                 job.id, scene_id, spec.backend, cue_by - self._now())  # fmt: skip
        task = asyncio.get_running_loop().create_task(self._enqueue(job), name=f"fill-in-{job.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _enqueue(self, job: Job) -> None:
        try:
            await self._queue.submit(job)
        except Exception:  # a queue that is down: the fallback plays, the room goes on
            log.exception("fill-in not submitted: %s", job.id)

    def _derived_seed(self, scene: SceneId, boundary: float) -> int:
        """A seed per room, scene and boundary: replays of a room make the same asks."""
        return zlib.crc32(f"{self._seed}:{scene}:{boundary:.3f}".encode())

    # -- results ------------------------------------------------------------------------

    def _on_update(self, update: Update) -> None:
        if update.type == "result":
            self._deliver(Generated(update, self._now()))
            return
        shown = self._board.get(update.job)
        if shown is not None and shown.phase in ("queued", "running"):
            self._board[update.job] = replace(
                shown, phase="running", stage=update.stage, fraction=update.fraction
            )

    def _show(self, view: JobView) -> None:
        self._board[view.job] = view
        self._board.move_to_end(view.job)
        while len(self._board) > BOARD_SIZE:
            self._board.popitem(last=False)

    def board(self) -> list[JobView]:
        """The room's latest jobs, newest first, as the host sees them."""
        now = self._now()
        return [
            replace(view, phase="overdue")
            if view.phase in ("queued", "running") and now > view.cue_by
            else view
            for view in reversed(self._board.values())
        ]

    def accept(self, generated: Generated) -> Judged:
        """The record to keep of a result, and the `FillIn` it earns (None when it does not).

        A result for a job this owner did not ask for (another room's, or one for a
        boundary past) earns nothing and is not recorded here.
        """
        result, now = generated.result, generated.received_at
        pending = self._pending.pop(result.job, None)
        if pending is None:
            return Judged(None, None)
        status = result.status
        in_time = now <= pending.boundary - self._margin_s
        if status == "done" and not in_time:
            status = "late"
        fill_in = None
        if status == "done" and result.media is not None:
            fill_in = FillIn(pending.scene, result.media, result.job, now)
        provenance = result.provenance
        record = AssetRecord(
            job_id=result.job,
            room_code=self._code,
            scene=pending.scene,
            status=status,
            media=result.media,
            backend=provenance.backend if provenance else pending.backend,
            model=provenance.model if provenance else "",
            prompt=provenance.prompt if provenance else pending.prompt,
            seed=provenance.seed if provenance else pending.seed,
            duration_s=provenance.duration_s if provenance else pending.duration_s,
            timings=dict(provenance.timings) if provenance else {},
            style_score=provenance.style_score if provenance else None,
            worker=provenance.worker if provenance else "",
            code=result.code if status == result.status else "past-deadline",
            at=now,
        )
        shown = self._board.get(result.job)
        if shown is not None:
            fraction = 1.0 if status in ("done", "late") else shown.fraction
            self._board[result.job] = replace(
                shown, phase=status, fraction=fraction, code=record.code
            )
        log.info("fill-in %s: %s for %s%s", status, result.job, pending.scene,
                 f" ({record.code})" if record.code else "")  # fmt: skip
        return Judged(record, fill_in)

    async def close(self) -> None:
        self._unsubscribe()
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=1.0)


__all__ = ["BOARD_SIZE", "FillIns", "JobPhase", "JobView"]
