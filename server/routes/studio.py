"""The studio: the writers' script assistant (``/studio``, host token). AI drafts, writers decide.

A host opens ``/studio#room=CODE&token=HOST_TOKEN`` and works on the story of that room.
Drafts are written by the text model (`genmodels.drafts`) in a worker thread, scored for
diversity against the node's branches and the other live drafts (`genmodels.diversity`),
and stored; the writer edits, discards or approves them. Only approval changes a story,
and it never changes one in place: the branch is added to the newest version's text
(`narrative.story_edit`), validated like an upload, and saved as a new story; rooms
already running keep theirs, and a host creates a room with the new one to screen it.
No draft reaches an audience unapproved (DESIGN.md, "Generation").

    GET   /api/studio/{code}                          the head story's vote nodes and drafts
    POST  /api/studio/{code}/drafts                   write N drafts at a node (201)
    PATCH /api/studio/{code}/drafts/{id}              edit label/text; diversity recomputed
    POST  /api/studio/{code}/drafts/{id}/approve      201 new story, or 422 story-invalid
    POST  /api/studio/{code}/drafts/{id}/discard

torch loads only when drafting first runs: the genmodels modules are imported inside the
worker-thread functions, so ``kinoroom serve`` never imports it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Literal, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from narrative.errors import NarrativeError
from narrative.ink_story import looks_like_ink
from narrative.story import Story
from narrative.story_edit import add_branch
from narrative.validate import load_story
from server.deps import HostDep, RoomDep, ServicesDep
from server.errors import ApiError
from server.persistence import StoryRecord
from server.persistence.drafts import DraftRecord, Drafts, DraftScore, NewDraft
from server.services import Services
from server.settings import Settings
from web_client import STATIC_DIR

if TYPE_CHECKING:
    from genmodels.diversity import DraftDiversity
    from genmodels.drafts import Brief, Draft

_T = TypeVar("_T")
log = logging.getLogger(__name__)
router = APIRouter(tags=["studio"])

# Codes only the studio answers with (errors.js has a friendly text for each; a test checks).
STUDIO_CODES = ("node-not-found", "draft-not-found", "draft-closed", "model-unavailable")
DRAFTS_TIMEOUT_S = 300.0  # one request: model load plus up to 5 drafts of ≤ 45 s each
SCORE_TIMEOUT_S = 60.0


class DraftRequest(BaseModel):
    node: str = Field(min_length=1, max_length=64, description="a scene with a vote")
    n: int = Field(3, ge=1, le=5, description="how many drafts")
    kind: Literal["card", "prompt"] = Field("card", description="caption card or scene prompt")
    theme: str = Field("", max_length=200)
    mood: str = Field("", max_length=200)
    characters: str = Field("", max_length=200)


class DraftEdit(BaseModel):
    label: str | None = Field(None, min_length=1, max_length=80)
    text: str | None = Field(None, min_length=1, max_length=2000)


class DraftOut(BaseModel):
    id: int
    story_id: int
    node: str
    kind: str
    label: str
    text: str
    brief: dict[str, object]
    diversity: float = Field(description="1 - highest similarity to a branch or draft")
    similar: bool = Field(description="too similar: a likely rewording (homogenisation)")
    nearest: str | None = Field(description="what it is most similar to")
    status: str
    approved_story_id: int | None
    provenance: dict[str, object]


class OptionOut(BaseModel):
    id: str
    label: str
    goto: str


class NodeOut(BaseModel):
    id: str
    prompt: str
    media: str | None  # None: a text scene
    options: list[OptionOut]


class StoryRef(BaseModel):
    id: int
    digest: str
    title: str


class StudioOut(BaseModel):
    room: str
    policy: str
    mode: str
    story: StoryRef = Field(description="the newest version: what the next approval edits")
    versions: list[int] = Field(description="the room's story, then each approved version")
    similar_at: float
    nodes: list[NodeOut]
    drafts: list[DraftOut]


class DraftsOut(BaseModel):
    drafts: list[DraftOut]


class Approved(BaseModel):
    story: StoryRef
    option_id: str
    scene_id: str
    scene: dict[str, object]
    kept_layout: bool = Field(description="False: the YAML was re-dumped (comments dropped)")
    draft: DraftOut


# -- blocking work, run in worker threads ----------------------------------------------


def _write(settings: Settings, story: Story, node: str, brief: Brief, n: int) -> list[Draft]:
    from genmodels.drafts import node_context, write_drafts
    from genmodels.text import shared_model

    model = shared_model(settings.text_model, device=settings.gen_device)
    seed = secrets.randbelow(2**31)  # recorded per draft: each can be made again
    return write_drafts(model, node_context(story, node), brief, n, seed=seed)


def _score(
    settings: Settings, story: Story, node: str, live: list[DraftRecord]
) -> list[DraftDiversity]:
    from genmodels.diversity import Sentence, diversity, shared_embedder
    from genmodels.drafts import existing_sentences, node_context

    embedder = shared_embedder(settings.embedding_model)
    drafts = [Sentence(f"draft {d.id}", d.label, d.text) for d in live]
    existing = existing_sentences(node_context(story, node))
    return diversity(drafts, existing, embedder=embedder)


async def _off_loop(timeout_s: float, call: Callable[[], _T]) -> _T:
    """Run blocking model code in a thread; model failures become ``model-unavailable``.

    On timeout the request gives up; the thread finishes its generation on its own
    (threads cannot be cancelled) and its result is dropped.
    """
    from genmodels.backend import GenerationError

    try:
        async with asyncio.timeout(timeout_s):
            result = await asyncio.to_thread(call)
    except GenerationError as exc:
        raise ApiError(503, "model-unavailable", exc.message) from None
    except TimeoutError:
        raise ApiError(503, "model-unavailable", "the model took too long") from None
    return result


# -- helpers -----------------------------------------------------------------------------


def _drafts(svc: Services) -> Drafts:
    return Drafts(svc.store.engine)


def _out(d: DraftRecord) -> DraftOut:
    return DraftOut.model_validate(d, from_attributes=True)


def _new(story_id: int, body: DraftRequest, wishes: dict[str, object], d: Draft) -> NewDraft:
    provenance: dict[str, object] = {
        "backend": "text", "model": d.model, "seed": d.seed, "prompt": d.prompt,
        "seconds": d.seconds, "new_tokens": d.new_tokens, "raw": d.raw,
    }  # fmt: skip
    return NewDraft(story_id, body.node, body.kind, d.label, d.text, wishes, provenance)


def _ref(record: StoryRecord) -> StoryRef:
    return StoryRef(id=record.id, digest=record.digest, title=record.title)


async def _head(room: RoomDep, svc: Services) -> tuple[list[int], StoryRecord, Story]:
    """The room's story versions and the newest one, read."""
    versions = await _drafts(svc).versions(room.record.story_id)
    record = await svc.store.story(versions[-1])
    if record is None:  # stories are never deleted; a restored database may lack one
        raise ApiError(404, "story-not-found", f"no story {versions[-1]}")
    if looks_like_ink(record.source):  # a program: its branches are ink, not story-file nodes
        raise ApiError(
            409, "story-not-editable",
            "this room screens an ink story: write its new branches in ink (Inky), then upload it",
        )  # fmt: skip
    return versions, record, load_story(record.source, f"story-{record.id}.{record.fmt}")


async def _draft(svc: Services, versions: list[int], draft_id: int) -> DraftRecord:
    draft = await _drafts(svc).get(draft_id)
    if draft is None or draft.story_id not in versions:
        raise ApiError(404, "draft-not-found", f"no draft {draft_id} for this room's story")
    if draft.status != "draft":
        raise ApiError(409, "draft-closed", f"draft {draft_id} was {draft.status} already")
    return draft


async def _rescore(svc: Services, versions: list[int], story: Story, node: str) -> None:
    """Score the node's live drafts again: each against the branches and the others."""
    repo = _drafts(svc)
    live = await repo.of_stories(versions, node=node, status="draft")
    if not live or node not in story.scenes:
        return
    results = await _off_loop(SCORE_TIMEOUT_S, partial(_score, svc.settings, story, node, live))
    scores = [
        DraftScore(d.id, r.score, r.similar, r.nearest) for d, r in zip(live, results, strict=True)
    ]
    await repo.score(scores)


def _nodes(story: Story) -> list[NodeOut]:
    return [
        NodeOut(
            id=scene_id,
            prompt=scene.choice.prompt,
            media=scene.media,
            options=[OptionOut(id=o.id, label=o.label, goto=o.goto) for o in scene.choice.options],
        )
        for scene_id, scene in story.scenes.items()
        if scene.choice is not None
    ]


# -- routes ------------------------------------------------------------------------------


@router.get("/studio", include_in_schema=False)
async def studio_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "studio.html", headers={"Cache-Control": "no-cache"})


@router.get("/api/studio/{code}")
async def studio(room: RoomDep, host: HostDep, svc: ServicesDep) -> StudioOut:
    """The newest version of the room's story: its vote nodes and every draft written."""
    from genmodels.diversity import SIMILAR_AT  # numpy only; no torch

    versions, record, story = await _head(room, svc)
    drafts = await _drafts(svc).of_stories(versions)
    return StudioOut(
        room=room.code,
        policy=str(room.record.policy.get("name", "plurality")),
        mode=room.record.mode,
        story=_ref(record),
        versions=versions,
        similar_at=SIMILAR_AT,
        nodes=_nodes(story),
        drafts=[_out(d) for d in drafts],
    )


@router.post("/api/studio/{code}/drafts", status_code=201)
async def write_drafts(
    body: DraftRequest, room: RoomDep, host: HostDep, svc: ServicesDep
) -> DraftsOut:
    """Write ``n`` drafts at a node with the text model (off the event loop)."""
    from genmodels.drafts import Brief

    versions, record, story = await _head(room, svc)
    scene = story.scenes.get(body.node)
    if scene is None or scene.choice is None:
        raise ApiError(404, "node-not-found", f"no vote at '{body.node}' in '{story.title}'")
    brief = Brief(body.kind, body.theme, body.mood, body.characters)
    write = partial(_write, svc.settings, story, body.node, brief, body.n)
    written = await _off_loop(DRAFTS_TIMEOUT_S, write)
    wishes = body.model_dump(include={"theme", "mood", "characters"})
    created = await _drafts(svc).create([_new(record.id, body, wishes, d) for d in written])
    log.info("studio: %d drafts at %s, story %d", len(created), body.node, record.id)
    await _rescore(svc, versions, story, body.node)
    repo = _drafts(svc)
    return DraftsOut(drafts=[_out(d) for c in created if (d := await repo.get(c.id)) is not None])


@router.patch("/api/studio/{code}/drafts/{draft_id}")
async def edit_draft(
    draft_id: int, body: DraftEdit, room: RoomDep, host: HostDep, svc: ServicesDep
) -> DraftOut:
    """Change a draft's label and/or text; the node's diversity scores are recomputed."""
    versions, _, story = await _head(room, svc)
    draft = await _draft(svc, versions, draft_id)
    edited = await _drafts(svc).edit(draft.id, label=body.label, text=body.text)
    if edited is None:
        raise ApiError(409, "draft-closed", f"draft {draft_id} was closed meanwhile")
    await _rescore(svc, versions, story, draft.node)
    found = await _drafts(svc).get(draft.id)
    assert found is not None
    return _out(found)


@router.post("/api/studio/{code}/drafts/{draft_id}/approve", status_code=201)
async def approve_draft(
    draft_id: int, room: RoomDep, host: HostDep, svc: ServicesDep, request: Request
) -> Approved:
    """Add the draft to the newest version as a new story (validated), or refuse (422)."""
    lock: asyncio.Lock | None = getattr(request.app.state, "studio_approvals", None)
    if lock is None:
        lock = request.app.state.studio_approvals = asyncio.Lock()
    async with lock:  # one approval at a time: each edits the head the last one made
        versions, head, _ = await _head(room, svc)
        draft = await _draft(svc, versions, draft_id)
        try:
            edit = add_branch(
                head.source, head.fmt, draft.node, draft.label, draft.kind, draft.text
            )
        except NarrativeError as exc:
            raise ApiError(404, "node-not-found", exc.message) from None
        saved = await svc.save_story(edit.source, f"story.{head.fmt}")  # StoryError: 422
        closed = await _drafts(svc).close(draft.id, "approved", saved.id)
        if closed is None:
            raise ApiError(409, "draft-closed", f"draft {draft_id} was closed meanwhile")
    log.info("studio: draft %d approved into story %d (%s)", draft.id, saved.id, edit.scene_id)
    new_story = load_story(saved.source)
    await _rescore(svc, [*versions, saved.id], new_story, draft.node)
    return Approved(
        story=_ref(saved),
        option_id=edit.option_id,
        scene_id=edit.scene_id,
        scene=edit.scene,
        kept_layout=edit.kept_layout,
        draft=_out(closed),
    )


@router.post("/api/studio/{code}/drafts/{draft_id}/discard")
async def discard_draft(draft_id: int, room: RoomDep, host: HostDep, svc: ServicesDep) -> DraftOut:
    versions, _, story = await _head(room, svc)
    draft = await _draft(svc, versions, draft_id)
    closed = await _drafts(svc).close(draft.id, "discarded", None)
    if closed is None:
        raise ApiError(409, "draft-closed", f"draft {draft_id} was closed meanwhile")
    await _rescore(svc, versions, story, draft.node)
    return _out(closed)


__all__ = ["STUDIO_CODES", "router"]
