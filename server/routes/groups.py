"""Groups that come back, and what each should watch next (`server.recommend`).

A group's id is its key: random and unguessable (like a host token), made once and kept
by the host page; rooms created with it accumulate into its history. Anyone holding the
id may read its picks; nothing it returns is a viewer's own.
"""

from __future__ import annotations

import secrets
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from server.deps import ServicesDep
from server.errors import ApiError

router = APIRouter(prefix="/api/groups", tags=["groups"])

GROUP_ID_BYTES = 12  # 96 bits: 16 URL-safe characters


class GroupCreate(BaseModel):
    name: str = Field(min_length=1, max_length=80, description="what the host calls the group")


class GroupInfo(BaseModel):
    id: str = Field(description="the group's key: keep it like a password")
    name: str
    rooms: int = Field(description="rooms created for the group")


class PickOut(BaseModel):
    story_id: int
    title: str
    kind: Literal["taste", "together", "start", "explore"] = Field(
        description="taste: the group's own reactions; together: groups like it; start: no "
        "history yet; explore: deliberately outside the group's habit"
    )
    reason: str = Field(description="one sentence for the host")
    score: float


class NextOut(BaseModel):
    group: str
    screenings: int = Field(description="the group's screenings the picks learnt from")
    blend: float = Field(description="the weight of other groups' screenings (0 to 1)")
    picks: list[PickOut]


@router.post("", status_code=201)
async def create_group(body: GroupCreate, svc: ServicesDep) -> GroupInfo:
    record = await svc.groups.create(secrets.token_urlsafe(GROUP_ID_BYTES), body.name.strip())
    return GroupInfo(id=record.id, name=record.name, rooms=0)


async def _group(group_id: str, svc: ServicesDep) -> GroupInfo:
    record = await svc.groups.get(group_id) if len(group_id) <= 32 else None
    if record is None:
        raise ApiError(404, "group-not-found", "no such group (its id is its key)")
    return GroupInfo(id=record.id, name=record.name, rooms=record.rooms)


@router.get("/{group_id}")
async def group_info(group_id: str, svc: ServicesDep) -> GroupInfo:
    return await _group(group_id, svc)


@router.get("/{group_id}/next")
async def watch_next(
    group_id: str,
    svc: ServicesDep,
    explore: bool = Query(True, description="include the pick outside the group's habit"),
) -> NextOut:
    """Three films for the group's next screening, each with one sentence of why."""
    await _group(group_id, svc)
    found = await (await svc.recommender()).watch_next(group_id, explore=explore)
    return NextOut(
        group=found.group,
        screenings=found.screenings,
        blend=found.blend,
        picks=[
            PickOut(story_id=p.story_id, title=p.title, kind=p.kind, reason=p.reason, score=p.score)
            for p in found.picks
        ],
    )


__all__ = ["router"]
