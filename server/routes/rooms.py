"""Rooms: create (host), join (phones and screens), look up, QR code, roster and fill-in
jobs (host)."""

from __future__ import annotations

import io
from typing import Literal

import segno
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from narrative.policies import POLICY_NAMES
from server.deps import HostDep, RoomDep, ServicesDep
from server.errors import ApiError
from server.rooms.fill_ins import JobPhase

router = APIRouter(prefix="/api/rooms", tags=["rooms"])


class RoomCreate(BaseModel):
    story_id: int | None = Field(None, description="a stored story; default: the bundled demo")
    policy: str = Field("plurality", description=f"one of {', '.join(POLICY_NAMES)}")
    policy_params: dict[str, object] = Field(default_factory=dict)
    mode: Literal["phones-play", "big-screen"] = "phones-play"
    seed: int | None = None
    group: str | None = Field(
        None, max_length=32, description="a group's id: the room joins its history"
    )


class RoomCreated(BaseModel):
    code: str
    host_token: str
    host_device: str
    join_url: str
    ws_url: str


class JoinRequest(BaseModel):
    nickname: str = Field(min_length=1, max_length=40)
    role: Literal["phone", "screen"] = "phone"


class Joined(BaseModel):
    room: str
    device: str
    token: str
    ws_url: str


class RoomInfo(BaseModel):
    code: str
    title: str
    mode: str
    phase: str
    phones: int
    join_url: str


def _public(request: Request, svc: ServicesDep) -> str:
    return (
        svc.settings.public_url.rstrip("/")
        if svc.settings.public_url
        else str(request.base_url).rstrip("/")
    )


def _ws(base: str, code: str) -> str:
    return base.replace("http", "ws", 1) + f"/ws/rooms/{code}"


@router.post("", status_code=201)
async def create_room(body: RoomCreate, request: Request, svc: ServicesDep) -> RoomCreated:
    if body.story_id is None:
        if svc.demo is None:
            raise ApiError(422, "bad-request", "story_id is required (no demo story loaded)")
        story = await svc.store.story(svc.demo[0].record.story_id)
    else:
        story = await svc.store.story(body.story_id)
    if story is None:
        raise ApiError(404, "story-not-found", f"no story {body.story_id}")
    if body.group is not None and await svc.groups.get(body.group) is None:
        raise ApiError(404, "group-not-found", "no such group (its id is its key)")
    room, host = await svc.rooms.create(
        story=story,
        policy=body.policy,
        policy_params=body.policy_params,
        mode=body.mode,
        seed=body.seed,
    )
    if body.group is not None:
        await svc.groups.add_room(body.group, room.code)
    base = _public(request, svc)
    return RoomCreated(
        code=room.code,
        host_token=host.token,
        host_device=host.device,
        join_url=f"{base}/j/{room.code}",
        ws_url=_ws(base, room.code),
    )


@router.get("/{code}")
async def room_info(room: RoomDep, request: Request, svc: ServicesDep) -> RoomInfo:
    summary = room.summary
    return RoomInfo(
        code=summary.code,
        title=summary.title,
        mode=summary.mode,
        phase=summary.phase.value,
        phones=summary.phones,
        join_url=f"{_public(request, svc)}/j/{room.code}",
    )


@router.post("/{code}/join", status_code=201)
async def join_room(body: JoinRequest, room: RoomDep, request: Request, svc: ServicesDep) -> Joined:
    """Take a seat; the token is what the page says in `hello`, and again to reconnect."""
    summary = room.summary
    if summary.ended:
        raise ApiError(410, "room-ended", f"the screening in room {room.code} has ended")
    if body.role == "phone" and summary.phones >= svc.settings.max_phones:
        raise ApiError(
            409, "room-full", f"room {room.code} has its {svc.settings.max_phones} phones"
        )
    seat = await svc.rooms.seat(room.code, body.nickname, body.role)
    return Joined(
        room=room.code,
        device=seat.device,
        token=seat.token,
        ws_url=_ws(_public(request, svc), room.code),
    )


@router.get("/{code}/qr.{fmt}")
async def room_qr(
    room: RoomDep, fmt: Literal["svg", "png"], request: Request, svc: ServicesDep
) -> Response:
    """The join URL as a QR code, for the shared screen."""
    qr = segno.make(f"{_public(request, svc)}/j/{room.code}", error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind=fmt, scale=8, border=2)
    media = "image/svg+xml" if fmt == "svg" else "image/png"
    return Response(buffer.getvalue(), media_type=media)


class RosterSeat(BaseModel):
    device: str
    nickname: str
    role: Literal["phone", "screen", "host"]
    connected: bool
    voted: bool = Field(description="has a live vote in the open window")


class Roster(BaseModel):
    seats: list[RosterSeat]
    connected: dict[str, int] = Field(description="connected pages by role")


@router.get("/{code}/roster")
async def room_roster(room: RoomDep, host: HostDep, svc: ServicesDep) -> Roster:
    """Everyone who took a seat, whether their page is connected and whether they voted."""
    summary, roster = room.summary, await svc.rooms.roster(room)
    seats = [
        RosterSeat(
            device=seat.device_id,
            nickname=seat.nickname,
            role=seat.role,
            connected=seat.device_id in roster.online,
            voted=seat.device_id in roster.voted,
        )
        for seat in await svc.store.seats(room.code)
    ]
    return Roster(seats=seats, connected={f"{role}s": n for role, n in summary.connected.items()})


class FillInJob(BaseModel):
    job: str
    scene: str
    title: str = Field(description="the generated scene's title card, or its scene id")
    backend: str
    phase: JobPhase = Field(
        description="queued, running, overdue (no result by its cue time: the fallback "
        "plays), then the outcome (done: cued for its boundary)"
    )
    stage: str = Field(description="the worker's current stage, e.g. compose or encode")
    fraction: float = Field(ge=0, le=1)
    due_in_s: float = Field(description="seconds until its cue time (negative: past it)")
    code: str | None = Field(None, description="why it did not play, when it did not")


class FillInJobs(BaseModel):
    jobs: list[FillInJob] = Field(description="the room's latest fill-in jobs, newest first")


@router.get("/{code}/fill-ins")
async def room_fill_ins(room: RoomDep, host: HostDep) -> FillInJobs:
    """The room's generated-scene jobs with their progress; empty when its story has no
    ``generate`` scene or the server runs no generation queue."""
    now = room.clock.now()
    return FillInJobs(
        jobs=[
            FillInJob(
                job=view.job,
                scene=view.scene,
                title=view.title,
                backend=view.backend,
                phase=view.phase,
                stage=view.stage,
                fraction=view.fraction,
                due_in_s=round(view.cue_by - now, 3),
                code=view.code,
            )
            for view in room.fill_in_board()
        ]
    )
