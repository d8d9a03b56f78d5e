"""SIGKILL the server mid-screening, start it again: no acked vote and no decision is lost.

The server runs as a subprocess (`tests.server.restart_server`, i.e. `server.serve.serve`)
on a fixed port and data directory, against SQLite and against a fresh PostgreSQL
database. Bot phones (the Python client) join, vote and keep their sockets; the test
kills the server twice without warning:

1. mid-window, right after the phones' votes were acked (one more vote still in
   flight): the restarted room must be at the same scene with the same start time,
   its clock must have run on through the downtime, the phones must be back on their
   own with their acked votes in ``welcome.your_vote``, and the decision must count
   every one of them;
2. right after that decision reached the phones: the restarted room must keep it as it
   was (the phones get it again, the report lists it once) and go on to the next vote.

Nothing here assumes how fast this machine is today: before the story is uploaded the
test kills and restarts the server once and times it, and the door's vote window is
sized from that restart (a busy machine restarts slower, and gets a longer window).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url

from mobile_bridge.client import Backoff, PhoneClient
from mobile_bridge.join import join_room
from mobile_bridge.protocol import DecisionMessage, Ended, VoteAck, Welcome

SCALE = float(os.environ.get("KINOROOM_TEST_TIMEOUT_SCALE", "1"))
TIMEOUT = 5.0 * SCALE
STARTUP_S = 20.0 * SCALE  # a cold interpreter importing the whole server
ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get(
    "KINOROOM_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
PHONES = 6
# Phones come back soon after the server does, and keep trying well past a slow restart.
BACKOFF = Backoff(attempts=60, first_s=0.05, cap_s=0.2)

# The door's vote must stay open through a kill, a restart and the phones' return, so its
# window is sized from a restart the test has just timed (`door_window_s`). The hall's
# vote stays open until the host skips.
DOOR_MIN_WINDOW_S = 3.0
STORY = """
kinoroom: 1
title: Power cut
start: door
scenes:
  door:
    media: cut/door
    duration: {door_s:.2f}
    choice:
      at: 0.2
      window: {window_s:.2f}
      prompt: Open the door?
      default: wait
      options:
        - {{id: open, label: Open it, goto: hall}}
        - {{id: wait, label: Wait, goto: hall}}
        - {{id: knock, label: Knock, goto: hall}}
  hall:
    media: cut/hall
    duration: 60
    choice:
      at: 0.1
      window: 50
      prompt: Which way?
      default: left
      options:
        - {{id: left, label: Left, goto: end}}
        - {{id: right, label: Right, goto: end}}
  end: {{media: cut/end, duration: 0.5, ending: true}}
"""


def door_window_s(restart_s: float) -> float:
    """A window holding four votes, a kill, a restart as slow as the one just timed (with
    room to be twice as slow), the phones' return and two more votes."""
    return max(DOOR_MIN_WINDOW_S, 1.5 + 3.0 * restart_s)


def story_source(restart_s: float) -> str:
    window_s = door_window_s(restart_s)
    return STORY.format(window_s=window_s, door_s=window_s + 1.5)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServerProcess:
    """`python -m tests.server.restart_server` on one port and data directory."""

    def __init__(self, tmp_path: Path, database_url: str | None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = tmp_path / "data"
        self.log = tmp_path / "server.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("KINOROOM_")}
        if database_url is not None:
            env["KINOROOM_DATABASE_URL"] = database_url
        self.env = env
        self.proc: asyncio.subprocess.Process | None = None

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    async def start(self) -> None:
        assert self.proc is None
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.server.restart_server",
                "--port", str(self.port), "--data-dir", str(self.data_dir),
                cwd=ROOT, env=self.env, stdout=asyncio.subprocess.PIPE, stderr=log,
            )  # fmt: skip
        assert self.proc.stdout is not None
        async with asyncio.timeout(STARTUP_S):
            # The banner says the services are up (rooms restored); uvicorn listens a
            # moment later.
            banner = await self.proc.stdout.readline()
            assert banner.startswith(b"Kinoroom is running"), f"{banner!r}\n{self.output()}"
            async with httpx.AsyncClient(base_url=self.url, trust_env=False) as http:
                while True:
                    with contextlib.suppress(httpx.ConnectError):
                        if (await http.get("/healthz")).status_code == 200:
                            return
                    await asyncio.sleep(0.02)

    async def restart(self) -> float:
        """Kill and start again; how long until it answered ``/healthz``."""
        began = time.monotonic()
        await self.kill()
        await self.start()
        return time.monotonic() - began

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no goodbye to the phones, no last commit."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
        async with asyncio.timeout(TIMEOUT):
            await proc.wait()
            if proc.stdout is not None:
                await proc.stdout.read()
        assert proc.returncode in (-signal.SIGKILL, 0), self.output()


@pytest_asyncio.fixture(params=["sqlite", "postgresql"])
async def database_url(request) -> AsyncIterator[str | None]:
    """None for the data directory's SQLite file; else a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    url = make_url(POSTGRES_URL)
    name = f"kr_{uuid.uuid4().hex}"
    admin_dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(admin_dsn, timeout=TIMEOUT)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest_asyncio.fixture
async def server(tmp_path, database_url) -> AsyncIterator[ServerProcess]:
    process = ServerProcess(tmp_path, database_url)
    try:
        await process.start()
        yield process
    finally:
        await process.kill()


def welcomes(phones: list[PhoneClient]) -> list[asyncio.Future[tuple[Welcome, float]]]:
    """Futures of each phone's next welcome (after its reconnect), and when it came."""

    async def welcome(phone: PhoneClient) -> tuple[Welcome, float]:
        message = await phone.wait_for(Welcome, timeout=STARTUP_S)
        return message, time.monotonic()

    return [asyncio.ensure_future(welcome(p)) for p in phones]


@pytest.mark.asyncio
async def test_sigkill_and_restart_lose_no_acked_vote_and_no_decision(server):
    restart_s = await server.restart()  # how fast a restart is here, now
    async with httpx.AsyncClient(base_url=server.url, trust_env=False) as http:
        story = await http.post("/api/stories", json={"source": story_source(restart_s)})
        assert story.status_code == 201, story.text
        created = await http.post("/api/rooms", json={"story_id": story.json()["id"]})
        assert created.status_code == 201, created.text
        code, host_token = created.json()["code"], created.json()["host_token"]
        seats = [await join_room(server.url, code, f"bot{i}", http=http) for i in range(PHONES)]

        def client(token: str, role: str = "phone") -> PhoneClient:
            return PhoneClient(server.url, code, token, role, timeout_s=TIMEOUT, backoff=BACKOFF)  # type: ignore[arg-type]

        host = client(host_token, "host")
        phones = [client(seat.token) for seat in seats]
        try:
            async with asyncio.timeout(60 * SCALE):
                await asyncio.gather(host.connect(), *(p.connect() for p in phones))
                await _screening(server, http, code, host_token, host, phones)
        finally:
            await asyncio.gather(host.close(), *(p.close() for p in phones))


async def _screening(server, http, code, host_token, host, phones) -> None:
    await host.host("start")
    door = await phones[0].next_vote_open(timeout=TIMEOUT)
    assert door.choice == "door"
    for phone in phones[1:]:
        await phone.next_vote_open(timeout=TIMEOUT)

    # -- before the first kill: four phones vote and are acked, one vote is in flight --
    ballots: dict[int, str] = {}
    acked: dict[int, tuple[int, str]] = {}  # phone -> (seq, option) acked before the kill
    for i, option in enumerate(["open", "open", "knock", "wait"]):
        ack = await phones[i].vote("door", option=option)
        assert isinstance(ack, VoteAck)
        ballots[i], acked[i] = option, (ack.seq, option)
    ack = await phones[1].vote("door", option="knock")  # a change of mind: replaces
    assert isinstance(ack, VoteAck)
    assert ack.replaced
    ballots[1], acked[1] = "knock", (ack.seq, "knock")

    await phones[0].sync_clock(4)
    door_state = phones[0].state
    assert door_state is not None
    assert door_state.scene == "door"
    back = welcomes(phones)
    in_flight = asyncio.ensure_future(phones[4].vote("door", option="wait", timeout=STARTUP_S))
    await asyncio.sleep(0)  # the waiters are registered and the vote is on the wire
    room_at_kill, killed_at = phones[0].room_now(), time.monotonic()
    downtime_s = await server.restart()

    # -- after the first restart ------------------------------------------------------
    info = await http.get(f"/api/rooms/{code}")
    assert info.status_code == 200, server.output()
    assert info.json()["phase"] == "playing"
    welcomed = [welcome for welcome, _ in await asyncio.gather(*back)]
    first, received_at = back[0].result()
    moved, elapsed = first.now - room_at_kill, received_at - killed_at
    # The room clock ran on while the server was down: the welcome was stamped before it
    # arrived (and the phone's clock is synced to ~1 ms), and a clock that had stopped
    # would be short by about the whole downtime.
    assert moved <= elapsed + 0.01
    assert moved > elapsed - downtime_s / 2, "the room clock must run on while down"
    for i, welcome in enumerate(welcomed):
        assert welcome.state.scene == "door"
        assert welcome.state.starts_at == pytest.approx(door_state.starts_at, abs=1e-6)
        assert welcome.state.vote is not None
        assert welcome.state.vote.closes_at == pytest.approx(door.closes_at, abs=1e-6)
        if i in acked:  # every acked vote survived the kill, as the phone last cast it
            assert welcome.your_vote is not None, f"phone {i} lost its acked vote"
            live = (welcome.your_vote.choice, welcome.your_vote.seq, welcome.your_vote.option)
            assert live == ("door", *acked[i])
    assert all(p.reconnects == 1 for p in phones)
    # The vote that was in flight at the kill is sent again with its seq and acked.
    assert isinstance(await in_flight, VoteAck)
    ballots[4] = "wait"
    late = await phones[5].vote("door", option="knock")
    assert isinstance(late, VoteAck)
    ballots[5] = "knock"

    # -- the door's window closes on the restarted server --------------------------------
    closes_in = max(0.0, door.closes_at - phones[0].room_now())
    decided = [
        asyncio.ensure_future(p.wait_for(DecisionMessage, timeout=closes_in + TIMEOUT))
        for p in phones
    ]
    door_decisions = await asyncio.gather(*decided)
    door_decision = door_decisions[0]
    assert all(d == door_decision for d in door_decisions)
    assert door_decision.choice == "door"
    counts = Counter(ballots.values())
    assert door_decision.tally == {o: float(counts[o]) for o in ("open", "wait", "knock")}
    assert (door_decision.turnout.voted, door_decision.turnout.present) == (PHONES, PHONES)
    assert door_decision.option == "knock"  # knock 3, open 1, wait 2

    # -- the second kill, right after the decision reached the phones -------------------
    back = welcomes(phones)
    await asyncio.sleep(0)
    await server.restart()
    await asyncio.gather(*back)
    for phone in phones:  # the decision is given back as it was, not made again
        assert phone.last_decision == door_decision
    hall = await phones[0].next_vote_open(timeout=TIMEOUT)
    assert hall.choice == "hall"
    hall_ballots = {i: "left" if i < 2 else "right" for i in range(PHONES)}
    hall_acks = await asyncio.gather(
        *(p.vote("hall", option=hall_ballots[i]) for i, p in enumerate(phones))
    )
    assert all(isinstance(a, VoteAck) for a in hall_acks)
    await host.host("skip")  # decides the hall now; the short last scene plays

    ended = [asyncio.ensure_future(p.wait_for(Ended, timeout=3 * TIMEOUT)) for p in phones]
    await asyncio.gather(*ended)
    hall_decision = phones[0].last_decision
    assert hall_decision is not None
    assert hall_decision.choice == "hall"
    assert hall_decision.option == "right"

    # -- the report: every decision once, as it was broadcast -------------------------
    auth = {"Authorization": f"Bearer {host_token}"}
    report = await http.get(f"/api/rooms/{code}/report", headers=auth)
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["phase"] == "ended"
    assert body["path"] == ["door", "hall", "end"]
    listed = [
        (d["choice"], d["option"], d["tally"], d["turnout"], d["at"]) for d in body["decisions"]
    ]
    expected = [
        (d.choice, d.option, d.tally, d.turnout.model_dump(), d.at)
        for d in (door_decision, hall_decision)
    ]
    assert listed == expected
