"""A phone whose connection drops comes back with its token and finds its seat as it left it."""

from __future__ import annotations

import asyncio
import os

import pytest

from mobile_bridge.client import Backoff, PhoneClient
from mobile_bridge.join import join_room
from mobile_bridge.protocol import DecisionMessage, Presence, VoteAck, Welcome

TIMEOUT = 5.0 * float(os.environ.get("KINOROOM_TEST_TIMEOUT_SCALE", "1"))
FAST = Backoff(attempts=20, first_s=0.02, cap_s=0.2)

# One vote, open long enough that nothing here races its deadline; the host skips to
# close it once the test has seen what it needs.
STORY = """
kinoroom: 1
title: Seat kept
start: door
scenes:
  door:
    media: seat/door
    duration: 60
    choice:
      at: 0.05
      window: 50
      prompt: Open the door?
      default: wait
      options:
        - {id: open, label: Open it, goto: end}
        - {id: wait, label: Wait, goto: end}
        - {id: knock, label: Knock, goto: end}
  end: {media: seat/end, duration: 1, ending: true}
"""


@pytest.mark.asyncio
async def test_a_dropped_phone_reconnects_to_its_seat_and_its_vote(live):
    story = await live.story(STORY)
    created = (await live.http.post("/api/rooms", json={"story_id": story})).json()
    code = created["code"]
    host = PhoneClient(live.url, code, created["host_token"], "host", timeout_s=TIMEOUT)
    seats = [await join_room(live.url, code, name, http=live.http) for name in ("ada", "bo")]
    phone, other = (
        PhoneClient(live.url, code, s.token, timeout_s=TIMEOUT, backoff=FAST) for s in seats
    )
    try:
        await asyncio.gather(host.connect(), phone.connect(), other.connect())
        await host.host("start")
        vote = await phone.next_vote_open(timeout=TIMEOUT)
        ack = await phone.vote(vote.choice, option="wait")
        assert isinstance(ack, VoteAck)
        assert isinstance(await phone.vote(vote.choice, option="knock"), VoteAck)  # replaces
        first_device = phone.device

        # The connection vanishes without a close frame (a phone losing its network).
        welcomed = asyncio.ensure_future(phone.wait_for(Welcome, timeout=TIMEOUT))
        await asyncio.sleep(0)  # let the waiter register before anything can arrive
        assert phone._ws is not None
        phone._ws.transport.abort()
        welcome = await welcomed
        assert phone.reconnects == 1
        assert welcome.device == first_device
        assert welcome.your_vote is not None
        assert (welcome.your_vote.choice, welcome.your_vote.option) == ("door", "knock")
        assert welcome.your_vote.seq == 2
        assert welcome.state.vote is not None  # the same vote is still open
        assert welcome.state.vote.choice == "door"

        # One seat, not two: a screen that opens now sees two phones (ada and bo).
        screen_seat = await live.http.post(
            f"/api/rooms/{code}/join", json={"nickname": "wall", "role": "screen"}
        )
        token = screen_seat.json()["token"]
        async with PhoneClient(live.url, code, token, "screen", timeout_s=TIMEOUT) as screen:
            presence = await screen.wait_for(Presence, timeout=TIMEOUT)
        assert (presence.phones, presence.screens, presence.hosts) == (2, 1, 1)

        # The reconnected phone's vote is the one counted.
        deciding = asyncio.ensure_future(other.wait_for(DecisionMessage, timeout=TIMEOUT))
        await asyncio.sleep(0)
        await host.host("skip")
        decision = await deciding
        assert decision.option == "knock"
        assert decision.tally["knock"] == 1
        assert sum(decision.tally.values()) == 1
        assert (decision.turnout.voted, decision.turnout.present) == (1, 2)
    finally:
        await asyncio.gather(host.close(), phone.close(), other.close())
