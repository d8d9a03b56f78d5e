"""What the pages need from the server: the pages themselves, policies, roster, join
refusals, and the host's report as JSON and CSV."""

from __future__ import annotations

import asyncio
import csv
import io

import pytest

from mobile_bridge.client import PhoneClient
from mobile_bridge.join import join_room
from mobile_bridge.protocol import DecisionMessage, Ended, VoteOpen
from narrative.policies import POLICY_NAMES
from server.report import CSV_COLUMNS
from tests.server.conftest import running, settings_for

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize(
    ("path", "module"),
    [
        ("/", None),
        ("/phone", "/static/phone.js"),
        ("/j/ABC234", "/static/phone.js"),
        ("/screen/ABC234", "/static/screen.js"),
        ("/host", "/static/host.js"),
        ("/rooms/ABC234/report", "/static/report.js"),
    ],
)
async def test_every_page_is_served_with_its_module(live, path, module):
    page = await live.http.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<link rel="icon" href="/static/icon.svg"' in page.text  # no /favicon.ico 404
    if module is not None:
        assert f'<script type="module" src="{module}"></script>' in page.text
        script = await live.http.get(module)
        assert script.status_code == 200
        assert "javascript" in script.headers["content-type"]


async def test_policies_list_every_policy_with_its_ballot(live):
    policies = (await live.http.get("/api/policies")).json()
    assert [p["name"] for p in policies] == list(POLICY_NAMES)
    ballots = {p["name"]: p["ballot"] for p in policies}
    assert (ballots["plurality"], ballots["borda"], ballots["approval"]) == (
        "option",
        "ranking",
        "approve",
    )
    assert all(p["summary"].endswith(".") for p in policies)


async def test_roster_shows_seats_connection_and_votes(live):
    room = await live.room()
    code, auth = room["code"], {"Authorization": f"Bearer {room['host_token']}"}
    ada = await join_room(live.url, code, "Ada", http=live.http)
    await join_room(live.url, code, "Bo", http=live.http)  # joined, never connected
    async with (
        PhoneClient(live.url, code, ada.token) as phone,
        PhoneClient(live.url, code, room["host_token"], "host") as host,
    ):
        vote_open = asyncio.ensure_future(phone.wait_for(VoteOpen, timeout=5))
        await host.host("start")
        await phone.vote((await vote_open).choice, "open")
        roster = (await live.http.get(f"/api/rooms/{code}/roster", headers=auth)).json()
    seats = {s["nickname"]: s for s in roster["seats"]}
    assert (seats["Ada"]["connected"], seats["Ada"]["voted"], seats["Ada"]["role"]) == (
        True,
        True,
        "phone",
    )
    assert (seats["Bo"]["connected"], seats["Bo"]["voted"]) == (False, False)
    assert seats["host"]["role"] == "host"
    assert roster["connected"] == {"phones": 1, "screens": 0, "hosts": 1}
    as_phone = await live.http.get(
        f"/api/rooms/{code}/roster", headers={"Authorization": f"Bearer {ada.token}"}
    )
    assert (as_phone.status_code, as_phone.json()["error"]) == (403, "forbidden")


async def test_a_full_room_refuses_new_phones_but_not_screens(tmp_path):
    async with running(settings_for(tmp_path, max_phones=1)) as live:
        room = await live.room()
        code = room["code"]
        first = await join_room(live.url, code, "Ada", http=live.http)
        async with PhoneClient(live.url, code, first.token):
            full = await live.http.post(f"/api/rooms/{code}/join", json={"nickname": "Bo"})
            assert (full.status_code, full.json()["error"]) == (409, "room-full")
            screen = await live.http.post(
                f"/api/rooms/{code}/join", json={"nickname": "TV", "role": "screen"}
            )
            assert screen.status_code == 201
            # Ada's seat is hers: she may come back on another socket while the room is full.
            async with PhoneClient(live.url, code, first.token) as again:
                assert again.device == first.device


async def test_an_ended_room_refuses_joins(live):
    room = await live.room()
    async with PhoneClient(live.url, room["code"], room["host_token"], "host") as host:
        ended = asyncio.ensure_future(host.wait_for(Ended, timeout=5))
        await host.host("start")
        await host.host("end")
        assert (await ended).report == f"/rooms/{room['code']}/report"
    late = await live.http.post(f"/api/rooms/{room['code']}/join", json={"nickname": "Late"})
    assert (late.status_code, late.json()["error"]) == (410, "room-ended")


async def test_report_has_labels_turnout_over_time_and_a_csv(live):
    room = await live.room()
    code, auth = room["code"], {"Authorization": f"Bearer {room['host_token']}"}
    seats = [await join_room(live.url, code, name, http=live.http) for name in ("Ada", "Bo")]
    async with (
        PhoneClient(live.url, code, room["host_token"], "host") as host,
        PhoneClient(live.url, code, seats[0].token) as ada,
        PhoneClient(live.url, code, seats[1].token) as bo,
    ):
        decided = asyncio.ensure_future(host.wait_for(DecisionMessage, timeout=10))
        opened = asyncio.ensure_future(ada.wait_for(VoteOpen, timeout=5))
        await host.host("start")
        choice = (await opened).choice
        await ada.vote(choice, "open")
        await bo.vote(choice, "knock")
        await ada.vote(choice, "knock")  # a change of mind: still one voter
        decision = await decided
    report = (await live.http.get(f"/api/rooms/{code}/report", headers=auth)).json()
    [node] = report["decisions"]
    assert (node["choice"], node["option"], node["label"]) == ("door", "knock", "Knock twice")
    assert node["prompt"] == "Open the door?"
    assert node["labels"] == {"open": "Open it", "wait": "Wait", "knock": "Knock twice"}
    assert node["reason"] == decision.reason
    assert node["opened_at"] < node["at"]
    [window] = [w for w in report["turnout"] if w["choice"] == "door"]
    assert [voted for _, voted, _ in window["points"]] == [0, 1, 2, 2]
    assert window["points"][-1][0] == node["at"]
    response = await live.http.get(f"/api/rooms/{code}/report.csv", headers=auth)
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert {(r["option"], r["score"], r["chosen"]) for r in rows} == {
        ("open", "0.0", "False"),
        ("wait", "0.0", "False"),
        ("knock", "2.0", "True"),
    }
    anonymous = await live.http.get(f"/api/rooms/{code}/report.csv")
    assert (anonymous.status_code, anonymous.json()["error"]) == (401, "bad-token")


async def test_the_report_outlives_the_server(tmp_path):
    settings = settings_for(tmp_path)
    async with running(settings) as live:
        room = await live.room()
        async with PhoneClient(live.url, room["code"], room["host_token"], "host") as host:
            ended = asyncio.ensure_future(host.wait_for(Ended, timeout=5))
            await host.host("start")
            await host.host("end")
            await ended
    async with running(settings) as live:  # ended rooms are not restored into memory
        auth = {"Authorization": f"Bearer {room['host_token']}"}
        report = await live.http.get(f"/api/rooms/{room['code']}/report", headers=auth)
        assert (report.status_code, report.json()["phase"]) == (200, "ended")
