"""The studio API on a live server, with a tiny random LM and the packaged MiniLM."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from narrative.validate import load_story, validate_text
from server.serve import banner
from tests.genmodels.tiny_lm import build_tiny_lm
from tests.server.conftest import LiveServer, running, settings_for

# A vote with four options: one approval makes five, a second one six (options-count).
STORY = """
kinoroom: 1
title: Studio reel
start: door
scenes:
  door:
    media: clips/door
    duration: 30
    choice:
      at: 1
      window: 10
      prompt: Who is knocking?
      default: wait
      options:
        - {id: open, label: Open the door, goto: hall}
        - {id: wait, label: Wait in silence, goto: hall}
        - {id: peek, label: Look through the keyhole, goto: hall}
        - {id: call, label: Call the police, goto: hall}
  hall: {media: clips/hall, duration: 5, next: end}
  end: {media: clips/end, duration: 3, ending: true}
"""


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_lm(tmp_path_factory.mktemp("studio") / "lm", chat_template=True)


@pytest_asyncio.fixture
async def live(tmp_path: Path, tiny_lm: Path) -> AsyncIterator[LiveServer]:
    settings = settings_for(tmp_path, text_model=str(tiny_lm), gen_device="cpu")
    async with running(settings) as server:
        yield server


async def studio_room(live: LiveServer) -> tuple[str, dict[str, str], int]:
    story_id = await live.story(STORY)
    created = await live.http.post("/api/rooms", json={"story_id": story_id})
    assert created.status_code == 201, created.text
    room = created.json()
    return room["code"], {"Authorization": f"Bearer {room['host_token']}"}, story_id


@pytest.mark.asyncio
async def test_the_studio_needs_the_rooms_host_token(live):
    code, host, _ = await studio_room(live)
    assert (await live.http.get(f"/api/studio/{code}")).json()["error"] == "bad-token"
    joined = await live.http.post(f"/api/rooms/{code}/join", json={"nickname": "Ann"})
    phone = {"Authorization": f"Bearer {joined.json()['token']}"}
    refused = await live.http.get(f"/api/studio/{code}", headers=phone)
    assert (refused.status_code, refused.json()["error"]) == (403, "forbidden")
    other, _, _ = await studio_room(live)
    wrong_room = await live.http.get(f"/api/studio/{other}", headers=host)
    assert (wrong_room.status_code, wrong_room.json()["error"]) == (401, "bad-token")
    page = await live.http.get("/studio")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]


@pytest.mark.asyncio
async def test_drafts_are_written_scored_stored_and_listed(live):
    code, host, story_id = await studio_room(live)
    studio = (await live.http.get(f"/api/studio/{code}", headers=host)).json()
    assert studio["story"]["id"] == story_id
    assert studio["versions"] == [story_id]
    assert [n["id"] for n in studio["nodes"]] == ["door"]
    assert len(studio["nodes"][0]["options"]) == 4

    body = {"node": "door", "n": 3, "kind": "card", "theme": "fear", "mood": "tense",
            "characters": "Ann"}  # fmt: skip
    response = await live.http.post(f"/api/studio/{code}/drafts", json=body, headers=host)
    assert response.status_code == 201, response.text
    drafts = response.json()["drafts"]
    assert len(drafts) == 3
    seeds = [d["provenance"]["seed"] for d in drafts]
    assert seeds == list(range(seeds[0], seeds[0] + 3))
    for draft in drafts:
        assert draft["status"] == "draft"
        assert (draft["story_id"], draft["node"], draft["kind"]) == (story_id, "door", "card")
        assert 1 <= len(draft["label"]) <= 80
        assert draft["text"]
        assert 0.0 <= draft["diversity"] <= 2.0
        assert draft["nearest"]
        assert draft["brief"] == {"theme": "fear", "mood": "tense", "characters": "Ann"}
        provenance = draft["provenance"]
        assert provenance["backend"] == "text"
        assert provenance["model"] == "lm"
        assert "Who is knocking?" in provenance["prompt"]
        assert provenance["new_tokens"] > 0
        assert provenance["seconds"] >= 0
    listed = (await live.http.get(f"/api/studio/{code}", headers=host)).json()["drafts"]
    assert [d["id"] for d in listed] == [d["id"] for d in drafts]


@pytest.mark.asyncio
async def test_bad_draft_requests_get_stable_codes(live):
    code, host, _ = await studio_room(live)
    url = f"/api/studio/{code}/drafts"
    too_many = await live.http.post(url, json={"node": "door", "n": 6}, headers=host)
    assert (too_many.status_code, too_many.json()["error"]) == (422, "bad-request")
    no_vote = await live.http.post(url, json={"node": "hall"}, headers=host)
    assert (no_vote.status_code, no_vote.json()["error"]) == (404, "node-not-found")
    missing = await live.http.patch(f"{url}/999", json={"label": "x"}, headers=host)
    assert (missing.status_code, missing.json()["error"]) == (404, "draft-not-found")


@pytest.mark.asyncio
async def test_an_edit_that_echoes_a_branch_is_flagged_too_similar(live):
    code, host, _ = await studio_room(live)
    url = f"/api/studio/{code}/drafts"
    (draft,) = (await live.http.post(url, json={"node": "door", "n": 1}, headers=host)).json()[
        "drafts"
    ]
    echo = {"label": "Peek through the keyhole", "text": "She peeks through the keyhole."}
    edited = await live.http.patch(f"{url}/{draft['id']}", json=echo, headers=host)
    assert edited.status_code == 200, edited.text
    flagged = edited.json()
    assert (flagged["label"], flagged["text"]) == (echo["label"], echo["text"])
    assert flagged["similar"] is True
    assert flagged["nearest"] == "option 'peek'"
    fresh = {"label": "Climb out of the window", "text": "Ann climbs onto the fire escape."}
    edited = (await live.http.patch(f"{url}/{draft['id']}", json=fresh, headers=host)).json()
    assert edited["similar"] is False
    assert edited["diversity"] > flagged["diversity"]


@pytest.mark.asyncio
async def test_approval_saves_a_new_valid_story_and_a_sixth_option_is_refused(live):
    code, host, story_id = await studio_room(live)
    url = f"/api/studio/{code}/drafts"
    body = {"node": "door", "n": 3, "kind": "prompt"}
    first, second, third = (await live.http.post(url, json=body, headers=host)).json()["drafts"]
    await live.http.patch(f"{url}/{first['id']}", json={"label": "Hide"}, headers=host)

    approved = await live.http.post(f"{url}/{first['id']}/approve", headers=host)
    assert approved.status_code == 201, approved.text
    result = approved.json()
    new_id = result["story"]["id"]
    assert new_id != story_id
    assert result["draft"]["status"] == "approved"
    assert result["draft"]["approved_story_id"] == new_id
    assert result["scene"]["generate"] == {"backend": "diffusion", "prompt": first["text"]}
    stored = live.services.store
    new_story = await stored.story(new_id)
    assert validate_text(new_story.source, "new.yaml") == []
    story = load_story(new_story.source)
    assert story.scenes["door"].choice.options[-1].label == "Hide"
    assert story.scenes["door"].choice.options[-1].goto == result["scene_id"]
    assert story.scenes[result["scene_id"]].next == "hall"
    assert (await stored.story(story_id)).source == STORY  # the room's story is untouched
    assert live.services.rooms.get(code).record.story_id == story_id
    studio = (await live.http.get(f"/api/studio/{code}", headers=host)).json()
    assert studio["story"]["id"] == new_id
    assert studio["versions"] == [story_id, new_id]
    assert len(studio["nodes"][0]["options"]) == 5

    again = await live.http.post(f"{url}/{first['id']}/approve", headers=host)
    assert (again.status_code, again.json()["error"]) == (409, "draft-closed")
    discarded = await live.http.post(f"{url}/{second['id']}/discard", headers=host)
    assert discarded.json()["status"] == "discarded"

    refused = await live.http.post(f"{url}/{third['id']}/approve", headers=host)
    assert refused.status_code == 422
    error = refused.json()
    assert error["error"] == "story-invalid"
    (diagnostic,) = [d for d in error["diagnostics"] if d["severity"] == "error"]
    assert diagnostic["code"] == "options-count"
    assert diagnostic["line"] > 0 and diagnostic["col"] > 0
    still = (await live.http.get(f"/api/studio/{code}", headers=host)).json()
    assert next(d for d in still["drafts"] if d["id"] == third["id"])["status"] == "draft"
    assert still["versions"] == [story_id, new_id]  # no story was made of it
    created = await live.http.post("/api/rooms", json={"story_id": new_id})
    assert created.status_code == 201  # the approved version can be screened


@pytest.mark.asyncio
async def test_a_model_that_cannot_load_is_model_unavailable(tmp_path):
    empty = tmp_path / "no-model"
    empty.mkdir()
    async with running(settings_for(tmp_path, text_model=str(empty))) as live:
        code, host, _ = await studio_room(live)
        response = await live.http.post(
            f"/api/studio/{code}/drafts", json={"node": "door"}, headers=host
        )
        assert (response.status_code, response.json()["error"]) == (503, "model-unavailable")


@pytest.mark.asyncio
async def test_the_banner_prints_the_demo_rooms_studio_link(tmp_path, tiny_lm):
    settings = settings_for(tmp_path, demo_room=True, text_model=str(tiny_lm))
    async with running(settings) as live:
        text = banner(live.services, live.url)
        link = re.search(r"^Studio .*: (\S+)/studio#room=([A-Z2-9]{6})&token=(\S+)$", text, re.M)
        assert link, text
        assert link[2] == live.services.demo[0].code
        host = {"Authorization": f"Bearer {link[3]}"}
        studio = await live.http.get(f"/api/studio/{link[2]}", headers=host)
        assert studio.json()["story"]["title"] == "The Night Train to Lindholm"


def test_serving_the_studio_does_not_import_torch():
    code = (
        "import sys; from server.app import create_app; create_app(); "
        "print(sorted({'torch', 'transformers'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"
