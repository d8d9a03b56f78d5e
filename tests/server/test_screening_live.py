"""Whole screenings over real sockets: uvicorn on 127.0.0.1, the Python phone client.

Seven rooms of 50 phones at once in one process: how long 350 votes take to be acked
depends on the machine and on what else runs on it, so no window here closes on a
clock. The story's windows are long, and the host skips (which decides the vote now,
with the room's policy) once every phone of the room holds its ack.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest

from mobile_bridge.client import PhoneClient
from mobile_bridge.join import join_room
from mobile_bridge.protocol import DecisionMessage, Ended, VoteAck, VoteOpen
from narrative.policies import POLICY_NAMES
from tests.server.conftest import QUICK_STORY
from tests.timing import within

PHONES = 50
LONG_WINDOWS = QUICK_STORY.replace("duration: 2.5", "duration: 300").replace(
    "window: 1.2", "window: 250"
)


async def bot(
    client: PhoneClient, rng: random.Random, votes: list[object], acked: Counter[str]
) -> list[str]:
    """Vote in every window until the film ends; returns the options decided."""
    decided: list[str] = []
    while client.ended is None:
        waiting = asyncio.ensure_future(client.next_vote_open(timeout=within(15)))
        ended = asyncio.ensure_future(client.wait_for(Ended, timeout=within(15)))
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
        decision_future = asyncio.ensure_future(
            client.wait_for(DecisionMessage, timeout=within(30))
        )
        votes.append(await client.vote(vote.choice, **ballot))
        acked[vote.choice] += 1
        decision = await decision_future
        decided.append(decision.option)
    return decided


async def skip_when_all_acked(host: PhoneClient, acked: Counter[str]) -> None:
    """The host ends each vote once every phone's ballot is acked."""
    for choice in ("door", "hall"):
        async with asyncio.timeout(within(30)):
            while acked[choice] < PHONES:
                await asyncio.sleep(0.01)
        await host.host("skip")


async def screen(live, policy: str) -> None:
    story_id = await live.story(LONG_WINDOWS)
    created = await live.http.post("/api/rooms", json={"story_id": story_id, "policy": policy})
    assert created.status_code == 201, created.text
    room = created.json()
    code = room["code"]
    host = PhoneClient(live.url, code, room["host_token"], "host")
    await host.connect()
    phones = []
    for i in range(PHONES):
        seat = await join_room(live.url, code, f"bot{i}", http=live.http)
        phones.append(PhoneClient(live.url, code, seat.token))
    await asyncio.gather(*(p.connect() for p in phones))
    votes: list[object] = []
    acked: Counter[str] = Counter()
    bots = [
        asyncio.create_task(bot(p, random.Random(i), votes, acked)) for i, p in enumerate(phones)
    ]
    ended = asyncio.ensure_future(host.wait_for(Ended, timeout=within(60)))
    await host.host("start")
    skipping = asyncio.create_task(skip_when_all_acked(host, acked))
    results = await asyncio.gather(*bots)
    await skipping
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
    async with asyncio.timeout(within(120)):
        await asyncio.gather(*(screen(live, policy) for policy in POLICY_NAMES))
