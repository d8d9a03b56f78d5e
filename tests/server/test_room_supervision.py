"""A room that fails (here: its database write) is restored and its phones come back."""

from __future__ import annotations

import pytest

from mobile_bridge.client import PhoneClient
from mobile_bridge.join import join_room
from mobile_bridge.protocol import VoteAck

pytestmark = pytest.mark.asyncio


async def test_a_failed_commit_restarts_the_room_and_loses_nothing_acked(live):
    room = await live.room()
    code = room["code"]
    seat = await join_room(live.url, code, "ada", http=live.http)
    async with (
        PhoneClient(live.url, code, room["host_token"], "host") as host,
        PhoneClient(live.url, code, seat.token) as phone,
    ):
        await host.host("start")
        vote = await phone.next_vote_open()
        async with live.commit_fails_once() as failed:
            # The vote whose commit fails is never acked; the client resends it after the
            # room comes back, and that ack is real.
            reply = await phone.vote(vote.choice, option=vote.options[0].id, timeout=10)
        assert failed.is_set()
        assert isinstance(reply, VoteAck)
        assert phone.reconnects >= 1
        restored = live.services.rooms.get(code)
        assert restored is not None and restored.owner is not None and restored.owner.failures == 1
        assert restored.owner.core.screening.live_ballot(phone.device) is not None
