"""Stories: upload (validated) and list."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from server.deps import ServicesDep
from server.errors import ApiError

router = APIRouter(prefix="/api/stories", tags=["stories"])


class StoryUpload(BaseModel):
    source: str = Field(
        min_length=1,
        max_length=5_000_000,
        description="the story file's text: a Kinoroom story (YAML or JSON), a compiled ink "
        "story (.ink.json) or a Twine story (Twee 3); the format is read from the content",
    )
    format: Literal["yaml", "json", "ink", "twee"] | None = Field(
        None, description="ignored (the content says which it is); kept for older clients"
    )
    name: str = Field("upload", max_length=200, description="the file's name, shown in diagnostics")


class StoryOut(BaseModel):
    id: int
    digest: str
    title: str
    bundled: bool = Field(False, description="shipped with Kinoroom (the demo)")


@router.post("", status_code=201)
async def upload_story(body: StoryUpload, svc: ServicesDep) -> StoryOut:
    """Validate and store a story; its errors come back as the validator's diagnostics."""
    record = await svc.save_story(body.source, body.name)
    return StoryOut(
        id=record.id, digest=record.digest, title=record.title, bundled=record.digest in svc.bundled
    )


@router.get("")
async def list_stories(svc: ServicesDep) -> list[StoryOut]:
    """Every stored story, the bundled ones first."""
    stories = [
        StoryOut(id=s.id, digest=s.digest, title=s.title, bundled=s.digest in svc.bundled)
        for s in await svc.store.stories()
    ]
    return sorted(stories, key=lambda s: not s.bundled)


@router.get("/{story_id}")
async def get_story(story_id: int, svc: ServicesDep) -> StoryOut:
    record = await svc.store.story(story_id)
    if record is None:
        raise ApiError(404, "story-not-found", f"no story {story_id}")
    return StoryOut(
        id=record.id, digest=record.digest, title=record.title, bundled=record.digest in svc.bundled
    )
