"""SIGKILL a server screening an ink story: it comes back at the same line, same variables.

The server runs as a subprocess (`tests.server.restart_server`, `server.serve.serve`), as
in `test_restart`, against SQLite and PostgreSQL; the room screens
``tests/narrative/ink/features.ink``, whose lines print its variables (rounds, coins). The
test kills it twice: mid-vote, and mid-way through a text scene after a decision. Each
time the restarted room must be at the same scene with the same words, and the story
must go on from the same variables: the next lines count on from where they were. Once
with a snapshot every two events (the restore starts from the ink runtime's saved state)
and once with the default (it replays the event log into a fresh run).
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from mobile_bridge.client import PhoneClient
from mobile_bridge.join import join_room
from mobile_bridge.protocol import DecisionMessage, State, VoteAck
from tests.narrative.ink_stories import text_of
from tests.server.test_restart import (
    BACKOFF,
    SCALE,
    STARTUP_S,
    TIMEOUT,
    ServerProcess,
    database_url,
    welcomes,
)

__all__ = ["database_url"]  # the fixture, shared with test_restart

HALL_1 = "The hall, round 1. You hold 0 coins."
CLERK_1 = "The clerk writes the coin down. Coins: 1.\nThe hall, round 2. You hold 1 coins."
CLERK_2 = "The clerk writes the coin down. Coins: 2.\nThe hall, round 3. You hold 2 coins."


async def next_state(phone: PhoneClient, scene: str) -> State:
    return await phone.wait_for(
        lambda m: isinstance(m, State) and m.scene == scene, timeout=TIMEOUT
    )


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("database_url", "snapshot_every"),
    [("sqlite", 2), ("sqlite", 500), ("postgresql", 2)],
    ids=["sqlite-from-snapshot", "sqlite-from-log", "postgresql-from-snapshot"],
    indirect=["database_url"],
)
async def test_sigkill_mid_ink_story_restores_the_same_line_and_variables(
    tmp_path, database_url, snapshot_every
):
    server = ServerProcess(tmp_path, database_url)
    server.env["KINOROOM_SNAPSHOT_EVERY"] = str(snapshot_every)
    await server.start()
    try:
        async with (
            httpx.AsyncClient(base_url=server.url, trust_env=False) as http,
            asyncio.timeout(90 * SCALE),
        ):
            story = await http.post(
                "/api/stories", json={"source": text_of("features"), "name": "features.ink.json"}
            )
            assert story.status_code == 201, story.text
            body = {"story_id": story.json()["id"], "seed": 9}
            created = (await http.post("/api/rooms", json=body)).json()
            code = created["code"]
            seats = [await join_room(server.url, code, f"p{i}", http=http) for i in range(2)]

            def client(token: str, role: str = "phone") -> PhoneClient:
                return PhoneClient(
                    server.url, code, token, role, timeout_s=TIMEOUT, backoff=BACKOFF
                )  # type: ignore[arg-type]

            host = client(created["host_token"], "host")
            phones = [client(seat.token) for seat in seats]
            try:
                await asyncio.gather(host.connect(), *(p.connect() for p in phones))
                await _screening(server, host, phones)
            finally:
                await asyncio.gather(host.close(), *(p.close() for p in phones))
    finally:
        await server.kill()


async def _screening(server: ServerProcess, host: PhoneClient, phones: list[PhoneClient]) -> None:
    ada = phones[0]
    await host.host("start")
    vote = await ada.next_vote_open(timeout=TIMEOUT)
    assert vote.choice == "t0-0"
    assert ada.state.text.body == HALL_1
    ack = await ada.vote(vote.choice, option="count-a-coin")
    assert isinstance(ack, VoteAck)

    # -- killed mid-vote: the same line, the vote and the acked ballot are back ----------
    back = welcomes([*phones, host])  # the host too: it skips next
    await server.kill()
    await server.start()
    welcome, _ = await back[0]
    await asyncio.gather(*back[1:])
    assert welcome.state.scene == "t0-0" and welcome.state.text.body == HALL_1
    assert welcome.your_vote is not None and welcome.your_vote.option == "count-a-coin"
    deciding = asyncio.ensure_future(ada.wait_for(DecisionMessage, timeout=TIMEOUT))
    clerk = asyncio.ensure_future(next_state(ada, "t1b-0"))
    await host.host("skip")  # decide now, from the ballot that survived
    assert (await deciding).option == "count-a-coin"
    # The runtime ran the tunnel and counted: coins 1, round 2.
    assert (await clerk).text.body == CLERK_1

    # -- killed during a text scene, after the decision: the same line again ------------
    back = welcomes([*phones, host])  # the host too: it skips next
    await server.kill()
    await server.start()
    welcome, _ = await back[0]
    await asyncio.gather(*back[1:])
    assert welcome.state.scene == "t1b-0"
    assert welcome.state.text.body == CLERK_1
    assert ada.last_decision is not None and ada.last_decision.option == "count-a-coin"
    vote = await ada.next_vote_open(timeout=STARTUP_S)  # the vote opens once it is read
    assert vote.choice == "t1b-0"
    assert [o.id for o in vote.options] == ["search-the-drawer", "count-a-coin"]
    assert isinstance(await ada.vote(vote.choice, option="count-a-coin"), VoteAck)
    after = asyncio.ensure_future(next_state(ada, "t2b-0"))
    await host.host("skip")
    # The same variables went on counting: coins 2, round 3.
    assert (await after).text.body == CLERK_2
