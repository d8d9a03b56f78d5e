"""Stories from ink and Twine on a live server: upload, list, screen, report."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mobile_bridge.client import PhoneClient
from mobile_bridge.join import join_room
from mobile_bridge.protocol import DecisionMessage, Ended, State
from narrative.ink_story import paced
from narrative.stories import LAMPLIGHTER
from tests.narrative.ink_stories import text_of

pytestmark = pytest.mark.asyncio
TWEE = Path(__file__).parents[1] / "narrative" / "twee" / "lighthouse.twee"


async def upload(live, source: str, name: str):
    return await live.http.post("/api/stories", json={"source": source, "name": name})


async def test_ink_and_twee_uploads_are_told_apart_by_content(live):
    ink = await upload(live, text_of("features"), "features.ink.json")  # with its BOM
    assert ink.status_code == 201, ink.text
    assert ink.json()["title"] == "Features"
    record = await live.services.store.story(ink.json()["id"])
    assert record.fmt == "json" and record.source.startswith('{"inkVersion"')

    twee = await upload(live, TWEE.read_text(encoding="utf-8"), "lighthouse.twee")
    assert twee.status_code == 201, twee.text
    kept = await live.services.store.story(twee.json()["id"])
    assert kept.fmt == "yaml" and kept.source.startswith("# Imported from lighthouse.twee")

    listed = [(s["title"], s["bundled"]) for s in (await live.http.get("/api/stories")).json()]
    assert listed[:2] == [("The Night Train to Lindholm", True), ("The Last Lamplighter", True)]
    assert {("Features", False), ("The Lighthouse", False)} <= set(listed)


async def test_bad_uploads_say_where_in_ink_and_twee(live):
    six = await upload(live, text_of("six_choices"), "six.ink.json")
    assert six.status_code == 422
    body = six.json()
    assert body["error"] == "story-invalid"
    [problem] = [d for d in body["diagnostics"] if d["severity"] == "error"]
    assert problem["code"] == "options-count" and problem["path"].startswith("0.")
    assert problem["file"] == "six.ink.json"
    twee = await upload(live, ":: Start\nGo.\n[[On->Nowhere]]\n\n:: End\nBye.\n", "s.twee")
    assert twee.status_code == 422
    [error] = [d for d in twee.json()["diagnostics"] if d["severity"] == "error"]
    assert (error["code"], error["line"]) == ("unknown-target", 3)


async def test_a_room_screens_an_ink_story_with_text_scenes_votes_and_a_report(live):
    quick = paced(LAMPLIGHTER.read_text(encoding="utf-8"), 0.1)
    story_id = (await upload(live, quick, "lamplighter.ink.json")).json()["id"]
    created = await live.http.post("/api/rooms", json={"story_id": story_id, "seed": 4})
    room = created.json()
    code = room["code"]
    seat = await join_room(live.url, code, "ada", http=live.http)
    async with (
        PhoneClient(live.url, code, room["host_token"], "host") as host,
        PhoneClient(live.url, code, seat.token) as phone,
    ):
        assert phone.welcome.title == "The Last Lamplighter"
        playing = asyncio.ensure_future(
            phone.wait_for(lambda m: isinstance(m, State) and m.phase == "playing", timeout=15)
        )
        await host.host("start")
        first = await playing
        assert first.media is None and first.scene == "t0-0"
        assert first.text.body.startswith("Tonight the city switches to electric light.")
        assert (first.text.background, first.text.colour) == ("#141821", "#f3e3b5")
        decided = []
        async with asyncio.timeout(60):
            while len(decided) < 3:
                vote = await phone.next_vote_open(timeout=15)
                labels = {o.id: o.label for o in vote.options}
                # First the oil seller's door, then the last option each time.
                pick = list(labels)[-1] if decided else next(o for o in labels if "knock" in o)
                deciding = asyncio.ensure_future(phone.wait_for(DecisionMessage, timeout=15))
                await phone.vote(vote.choice, option=pick)
                decision = await deciding
                assert decision.option == pick and decision.label == labels[pick]
                decided.append(decision)
            after = await phone.wait_for(
                lambda m: isinstance(m, State) and m.scene == decided[-1].goto, timeout=15
            )
            assert after.text is not None
            ending = asyncio.ensure_future(phone.wait_for(Ended, timeout=15))
            await host.host("end")
            await ending
    # The oil seller's door was chosen first: his lines are what played next.
    assert decided[0].goto == "t1b-0"
    auth = {"Authorization": f"Bearer {room['host_token']}"}
    report = (await live.http.get(f"/api/rooms/{code}/report", headers=auth)).json()
    assert [d["option"] for d in report["decisions"]] == [d.option for d in decided]
    assert report["decisions"][0]["prompt"] == "The clock on the square strikes nine."
    assert report["title"] == "The Last Lamplighter"


async def test_the_studio_refuses_an_ink_story_with_a_reason(live):
    story_id = (await upload(live, text_of("features"), "f.ink.json")).json()["id"]
    room = (await live.http.post("/api/rooms", json={"story_id": story_id})).json()
    auth = {"Authorization": f"Bearer {room['host_token']}"}
    response = await live.http.get(f"/api/studio/{room['code']}", headers=auth)
    assert (response.status_code, response.json()["error"]) == (409, "story-not-editable")
