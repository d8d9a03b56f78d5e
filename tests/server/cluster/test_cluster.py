"""One room served by three processes: phones on every node vote, everyone gets the decision.

Real ``kinoroom serve`` processes, a real Redis and PostgreSQL (`conftest.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
import pytest

from mobile_bridge import protocol as wire
from mobile_bridge.client import PhoneClient
from tests.server.cluster.conftest import SCALE, Cluster, Node

TIMEOUT = 30 * SCALE

# The vote stays open long enough for every phone on every node (no speed assumed: the
# window is a minute, and the host's `skip` closes it as soon as all have voted).
STORY = """
kinoroom: 1
title: Three nodes
start: door
scenes:
  door:
    media: c/door
    duration: 120
    choice:
      at: 0.5
      window: 60
      prompt: Open the door?
      default: wait
      options:
        - {id: open, label: Open it, goto: hall}
        - {id: wait, label: Wait, goto: hall}
        - {id: knock, label: Knock, goto: hall}
  hall:
    media: c/hall
    duration: 120
    choice:
      at: 0.5
      window: 60
      prompt: Which way?
      default: left
      options:
        - {id: left, label: Left, goto: end}
        - {id: right, label: Right, goto: end}
  end: {media: c/end, duration: 1, ending: true}
"""


async def make_room(node: Node, policy: str = "plurality", story: str = STORY) -> dict[str, str]:
    """A room of ``story`` made through ``node`` (its owner from the start)."""
    async with httpx.AsyncClient(base_url=node.url, trust_env=False, timeout=TIMEOUT) as http:
        made = await http.post("/api/stories", json={"source": story})
        assert made.status_code == 201, made.text
        room = await http.post("/api/rooms", json={"story_id": made.json()["id"], "policy": policy})
        assert room.status_code == 201, room.text
        return dict(room.json())


async def seat(node: Node, room: dict[str, str], name: str, role: str) -> str:
    """A seat taken through ``node``: its token."""
    async with httpx.AsyncClient(base_url=node.url, trust_env=False, timeout=TIMEOUT) as http:
        joined = await http.post(
            f"/api/rooms/{room['code']}/join", json={"nickname": name, "role": role}
        )
        assert joined.status_code == 201, joined.text
        return str(joined.json()["token"])


@asynccontextmanager
async def pages(
    room: dict[str, str], where: list[tuple[Node, str, str]]
) -> AsyncIterator[list[PhoneClient]]:
    """A page per (node, name, role), joined and connected through that node."""
    async with AsyncExitStack() as stack:
        clients = []
        for node, name, role in where:
            token = room["host_token"] if role == "host" else await seat(node, room, name, role)
            client = PhoneClient(node.url, room["code"], token, role, timeout_s=TIMEOUT)  # type: ignore[arg-type]
            clients.append(await stack.enter_async_context(client))
        yield clients


@pytest.mark.asyncio
async def test_phones_on_three_nodes_vote_and_every_page_gets_the_decision(cluster: Cluster):
    a, b, c = await asyncio.gather(*(cluster.node(n) for n in ("a", "b", "c")))
    room = await make_room(a)
    layout = [
        (a, "host", "host"), (c, "wall", "screen"),
        (a, "ada", "phone"), (b, "bo", "phone"), (c, "cy", "phone"), (b, "di", "phone"),
    ]  # fmt: skip
    async with pages(room, layout) as (host, screen, *phones):
        decided = [
            asyncio.ensure_future(p.wait_for(wire.DecisionMessage, timeout=TIMEOUT))
            for p in (host, screen, *phones)
        ]
        await host.host("start")
        door = await phones[0].next_vote_open(timeout=TIMEOUT)
        for phone in phones[1:]:
            await phone.next_vote_open(timeout=TIMEOUT)
        # The screen, on another node than the host, shows the live tally of every vote
        # (watched from before the first vote: the last tally may beat the last ack).
        every_vote = asyncio.ensure_future(screen.wait_for(
            lambda m: isinstance(m, wire.Tally) and m.voted == len(phones), timeout=TIMEOUT
        ))  # fmt: skip
        await asyncio.sleep(0)  # it is watching
        ballots = ["knock", "open", "knock", "wait"]
        for phone, option in zip(phones, ballots, strict=True):
            ack = await phone.vote(door.choice, option, timeout=TIMEOUT)
            assert isinstance(ack, wire.VoteAck), ack
        tally = await every_vote
        assert isinstance(tally, wire.Tally)
        assert tally.scores == {"open": 1.0, "wait": 1.0, "knock": 2.0}
        await host.host("skip")
        decisions = await asyncio.gather(*decided)
        assert {d.option for d in decisions} == {"knock"}
        assert all(d == decisions[0] for d in decisions)
        assert decisions[0].tally == {"open": 1.0, "wait": 1.0, "knock": 2.0}
        assert (decisions[0].turnout.voted, decisions[0].turnout.present) == (4, 4)
