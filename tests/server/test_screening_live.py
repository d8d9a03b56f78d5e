"""Whole screenings over real sockets: uvicorn on 127.0.0.1, the Python phone client."""

from __future__ import annotations

import asyncio
import random

import pytest

from mobile_bridge.client import PhoneClient
from mobile_bridge.join import join_room
from mobile_bridge.protocol import DecisionMessage, Ended, VoteAck, VoteOpen
from narrative.policies import POLICY_NAMES

PHONES = 50


async def bot(client: PhoneClient, rng: random.Random, votes: list[object]) -> list[str]:
    """Vote in every window until the film ends; returns the options decided."""
    decided: list[str] = []
    while client.ended is None:
        waiting = asyncio.ensure_future(client.next_vote_open(timeout=15))
        ended = asyncio.ensure_future(client.wait_for(Ended, timeout=15))
        done, _ = await asyncio.wait({waiting, ended}, return_when=asyncio.FIRST_COMPLETED)
        for task in (waiting, ended):
            if task not in done:
                task.cancel()
        if ended in done:
            break
        vote: VoteOpen = waiting.result()
        options = [o.id for o in vote.options]
        rng.shuffle(options)
        ballot = {
            "option": {"option": options[0]},
            "ranking": {"ranking": options},
            "approve": {"approve": options[:2]},
        }[vote.ballot]
        votes.append(await client.vote(vote.choice, **ballot))
        decision = await client.wait_for(DecisionMessage, timeout=15)
        decided.append(decision.option)
    return decided


async def screen(live, policy: str) -> None:
    room = await live.room(policy)
    code = room["code"]
    host = PhoneClient(live.url, code, room["host_token"], "host")
    await host.connect()
    phones = []
    for i in range(PHONES):
        seat = await join_room(live.url, code, f"bot{i}", http=live.http)
        phones.append(PhoneClient(live.url, code, seat.token))
    await asyncio.gather(*(p.connect() for p in phones))
    votes: list[object] = []
    bots = [asyncio.create_task(bot(p, random.Random(i), votes)) for i, p in enumerate(phones)]
    ended = asyncio.ensure_future(host.wait_for(Ended, timeout=30))
    await host.host("start")
    results = await asyncio.gather(*bots)
    assert (await ended).report == f"/rooms/{code}/report"
    # Every phone saw the same decisions, and every ballot was acked.
    assert all(r == results[0] for r in results)
    assert len(results[0]) == 2
    assert all(isinstance(v, VoteAck) for v in votes)
    auth = {"Authorization": f"Bearer {room['host_token']}"}
    report = (await live.http.get(f"/api/rooms/{code}/report", headers=auth)).json()
    assert [d["option"] for d in report["decisions"]] == results[0]
    assert report["phase"] == "ended"
    assert report["decisions"][0]["turnout"] == {"voted": PHONES, "present": PHONES}
    assert report["path"][0] == "door"
    await asyncio.gather(host.close(), *(p.close() for p in phones))


@pytest.mark.asyncio
async def test_full_screenings_with_50_phones_through_every_policy(live):
    async with asyncio.timeout(60):
        await asyncio.gather(*(screen(live, policy) for policy in POLICY_NAMES))
