"""One count on the screen: under Borda, the live tally a room watches is the policy's own.

Two phones pick (a pick is first place: m-1 points) and two rank. Counting a pick as one
point, as the screen once did, showed "Open it" ahead while the policy counted "Knock
twice" ahead; the screen now shows the points that decide, and the winner it showed.
"""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import expect

from mobile_bridge import protocol as wire
from mobile_bridge.client import PhoneClient
from mobile_bridge.join import join_room
from tests.server.conftest import LiveServer
from tests.web import support
from tests.web.conftest import SCREEN, Pages


@pytest.mark.asyncio
async def test_the_screen_tally_and_the_decision_agree_under_borda(
    server: LiveServer, pages: Pages
) -> None:
    room = await support.make_room(server, "borda", mode="big-screen")
    code = room["code"]
    screen = await pages.open(f"{server.url}/screen/{code}", name="screen", viewport=SCREEN)
    await expect(screen.locator("#room-code")).to_have_text(code)
    clients = []
    for name in ("Ada", "Bo", "Grace", "Linus", "host"):
        if name == "host":
            clients.append(PhoneClient(server.url, code, room["host_token"], "host"))
        else:
            seat = await join_room(server.url, code, name)
            clients.append(PhoneClient(server.url, code, seat.token, timeout_s=15))
    *phones, host = clients
    ada, bo, grace, linus = phones
    try:
        for client in clients:
            await client.connect()
        decided = [
            asyncio.ensure_future(p.wait_for(wire.DecisionMessage, timeout=30)) for p in phones
        ]
        await host.host("start")
        door = await ada.next_vote_open()
        assert door.ballot == "ranking"
        for client, ballot in (
            (ada, {"option": "knock"}),  # a pick: 2 points
            (bo, {"option": "knock"}),
            (grace, {"ranking": ["open", "knock", "wait"]}),  # 2, 1, 0
            (linus, {"ranking": ["open", "wait"]}),  # 2, 1
        ):
            ack = await client.vote(door.choice, **ballot)
            assert ack.type == "vote_ack"

        def score(option: str):
            return screen.locator(f"#tally [data-option={option}] .score")

        await expect(score("knock")).to_have_text("5")
        await expect(score("open")).to_have_text("4")
        await expect(score("wait")).to_have_text("1")
        await pages.shot(screen, "borda-live-tally")
        decision = await decided[0]
        assert decision.option == "knock"
        assert decision.tally == {"open": 4.0, "wait": 1.0, "knock": 5.0}
        await expect(screen.locator("#decision-label")).to_have_text("Knock twice")
        await expect(screen.locator("#tally .bar.win")).to_have_attribute("data-option", "knock")
        await pages.shot(screen, "borda-decision")
    finally:
        for client in clients:
            await client.close()
