"""Bad input over real sockets: every case gets its stable code, and the room goes on.

Each test opens a room whose vote stays open for the whole test, seats a well-behaved
phone (the Python client) that has already voted, throws one kind of bad input at the
server (from a raw WebSocket, since the client would never send it), asserts the code
and, where the socket is at fault, the close code; then the well-behaved phone votes
again and must be acked as a *replacement*: its earlier vote survived, nothing was lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.protocol import State as SocketState

from mobile_bridge.client import ClientError, PhoneClient
from mobile_bridge.join import join_room
from mobile_bridge.protocol import (
    MAX_MESSAGE_BYTES,
    PROTOCOL_VERSION,
    CloseCode,
    VoteAck,
    VoteOpen,
    VoteRejectedMessage,
)
from server.roomcode import ALPHABET
from tests.server.conftest import LiveServer, running, settings_for

TIMEOUT = 5.0 * float(os.environ.get("KINOROOM_TEST_TIMEOUT_SCALE", "1"))

# The door's vote opens at once and stays open longer than any test here runs.
LONG_VOTE = """
kinoroom: 1
title: Long vote
start: door
scenes:
  door:
    media: long/door
    duration: 60
    choice:
      at: 0.05
      window: 50
      prompt: Open the door?
      default: wait
      options:
        - {id: open, label: Open it, goto: hall}
        - {id: wait, label: Wait, goto: hall}
  hall:
    media: long/hall
    duration: 60
    choice:
      at: 0.05
      window: 50
      prompt: Which way?
      default: left
      options:
        - {id: left, label: Left, goto: end}
        - {id: right, label: Right, goto: end}
  end: {media: long/end, duration: 1, ending: true}
"""


@dataclass
class OpenRoom:
    server: LiveServer
    code: str
    host_token: str
    host: PhoneClient
    phone: PhoneClient  # the well-behaved phone: it voted "open" in the door's vote
    vote: VoteOpen
    option: str = "open"  # the good phone's live vote

    @property
    def ws_url(self) -> str:
        return f"{self.server.ws_url}/ws/rooms/{self.code}"

    async def still_works(self) -> None:
        """The good phone's vote is still live (a new one replaces it) and is acked."""
        current = self.phone.open_vote
        assert current is not None
        assert current.choice == self.vote.choice
        self.option = "wait" if self.option == "open" else "open"
        reply = await self.phone.vote(current.choice, option=self.option, timeout=TIMEOUT)
        assert isinstance(reply, VoteAck), reply
        assert reply.replaced, "the good phone's earlier vote was lost"
        assert self.phone.closed is None

    async def join(self, nickname: str = "raw") -> str:
        seat = await join_room(self.server.url, self.code, nickname, http=self.server.http)
        return seat.token


@contextlib.asynccontextmanager
async def open_room(server: LiveServer) -> AsyncIterator[OpenRoom]:
    story = await server.story(LONG_VOTE)
    created = await server.http.post("/api/rooms", json={"story_id": story})
    assert created.status_code == 201, created.text
    code, host_token = created.json()["code"], created.json()["host_token"]
    host = PhoneClient(server.url, code, host_token, "host", timeout_s=TIMEOUT)
    seat = await join_room(server.url, code, "good", http=server.http)
    phone = PhoneClient(server.url, code, seat.token, timeout_s=TIMEOUT)
    try:
        await host.connect()
        await phone.connect()
        await host.host("start")
        vote = await phone.next_vote_open(timeout=TIMEOUT)
        assert isinstance(await phone.vote(vote.choice, option="open"), VoteAck)
        yield OpenRoom(server, code, host_token, host, phone, vote)
    finally:
        await asyncio.gather(host.close(), phone.close())


@pytest_asyncio.fixture
async def room(live) -> AsyncIterator[OpenRoom]:
    async with open_room(live) as opened:
        yield opened


def tampered(token: str) -> str:
    """``token`` with its signature's first character changed (the last one may only carry
    base64 padding bits, so changing it can leave the signature intact)."""
    at = token.rindex(".") + 1
    return token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1 :]


def wrong_code(code: str) -> str:
    """A well-formed room code that is not ``code``."""
    first = ALPHABET[(ALPHABET.index(code[0]) + 1) % len(ALPHABET)]
    return first + code[1:]


async def raw(url: str, **kwargs) -> ClientConnection:
    return await connect(url, open_timeout=TIMEOUT, proxy=None, **kwargs)


def hello(token: str, role: str = "phone", protocol: int = PROTOCOL_VERSION) -> str:
    return json.dumps({"type": "hello", "protocol": protocol, "role": role, "token": token})


async def receive(ws: ClientConnection) -> dict:
    async with asyncio.timeout(TIMEOUT):
        return dict(json.loads(await ws.recv()))


async def receive_type(ws: ClientConnection, *types: str) -> dict:
    """The next message of one of ``types``, skipping broadcasts (presence, tally…)."""
    while (message := await receive(ws))["type"] not in types:
        pass
    return message


async def closed(ws: ClientConnection) -> tuple[int | None, str | None]:
    """Read to the end; the close code and reason the server sent."""
    async with asyncio.timeout(TIMEOUT):
        with contextlib.suppress(ConnectionClosed):
            while True:
                await ws.recv()
    assert ws.close_code is not None
    return ws.close_code, ws.close_reason


async def refused(url: str, first: str) -> tuple[dict, int | None]:
    """Send one message on a fresh socket; the error it gets and the close code."""
    async with await raw(url) as ws:
        with contextlib.suppress(ConnectionClosed):  # some refusals come before any message
            await ws.send(first)
        error = await receive(ws)
        assert error["type"] == "error", error
        assert "Traceback" not in error["message"]
        code, _ = await closed(ws)
    return error, code


async def seated(room: OpenRoom) -> ClientConnection:
    """A raw phone socket past hello and welcome."""
    ws = await raw(room.ws_url)
    await ws.send(hello(await room.join()))
    assert (await receive(ws))["type"] == "welcome"
    return ws


# -- bad frames on a seated socket: an error, and the socket stays open ------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "bad-json"),
        ("[1, 2, 3]", "bad-json"),
        ('{"type": "dance"}', "unknown-type"),
        ('{"choice": "door", "seq": 1, "option": "open"}', "unknown-type"),
        ('{"type": "vote", "choice": "door", "seq": "5", "option": "open"}', "bad-message"),
        ('{"type": "vote", "choice": "door", "seq": 5}', "bad-message"),
        (hello("again"), "bad-message"),
    ],
    ids=["not-json", "not-object", "unknown-type", "no-type", "seq-string", "no-ballot", "hello"],
)
async def test_a_malformed_message_gets_its_code_and_the_socket_stays_open(room, frame, code):
    async with await seated(room) as ws:
        await ws.send(frame)
        error = await receive_type(ws, "error")
        assert error["code"] == code
        assert "Traceback" not in error["message"]
        await ws.send(json.dumps({"type": "ping", "id": 7, "t0": 1.0}))
        assert (await receive_type(ws, "pong", "error"))["type"] == "pong"
    await room.still_works()


@pytest.mark.asyncio
async def test_a_phone_sending_a_host_command_is_forbidden_and_the_film_goes_on(room):
    with pytest.raises(ClientError) as refusal:
        await room.phone.host("end", timeout=TIMEOUT)
    assert refusal.value.code == "forbidden"
    async with await seated(room) as ws:
        await ws.send(json.dumps({"type": "host", "action": "skip", "id": 3}))
        error = await receive_type(ws, "error")
        assert (error["code"], error["ref"]) == ("forbidden", 3)
    assert room.phone.state is not None
    assert room.phone.state.phase == "playing"
    await room.still_works()


# -- the socket's own fault: an error, then a close code ----------------------------------


@pytest.mark.asyncio
async def test_wrong_protocol_version_is_refused_with_4005(room):
    error, close = await refused(room.ws_url, hello(await room.join(), protocol=99))
    assert error["code"] == "protocol-version"
    assert close == CloseCode.PROTOCOL_VERSION
    await room.still_works()


@pytest.mark.asyncio
async def test_a_first_message_that_is_not_hello_is_refused(room):
    error, close = await refused(room.ws_url, json.dumps({"type": "ping", "id": 1, "t0": 0.5}))
    assert error["code"] == "not-hello"
    assert close == CloseCode.POLICY
    error, close = await refused(room.ws_url, "hello?")
    assert error["code"] == "bad-json"
    assert close == CloseCode.POLICY
    await room.still_works()


@pytest.mark.asyncio
async def test_a_message_over_4_kib_is_refused_with_1009(room):
    too_big = json.dumps({"type": "ping", "id": 1, "t0": 0.5, "pad": "x" * MAX_MESSAGE_BYTES})
    async with await seated(room) as ws:
        await ws.send(too_big)
        assert (await receive_type(ws, "error"))["code"] == "too-large"
        assert (await closed(ws))[0] == CloseCode.TOO_LARGE
    # Even as the very first message, before hello.
    error, close = await refused(room.ws_url, too_big)
    assert error["code"] == "too-large"
    assert close == CloseCode.TOO_LARGE
    await room.still_works()


@pytest.mark.asyncio
async def test_more_than_20_messages_a_second_are_refused_then_closed_with_4008(room):
    ping = json.dumps({"type": "ping", "id": 1, "t0": 0.5})
    # A burst past the allowance (40 at once, 20/s after): the extra ones are refused,
    # the socket stays open.
    async with await seated(room) as ws:
        for _ in range(45):
            await ws.send(ping)
        replies = [await receive_type(ws, "pong", "error") for _ in range(45)]
        errors = [r["code"] for r in replies if r["type"] == "error"]
        assert errors
        assert set(errors) == {"rate-limited"}
        assert ws.state is SocketState.OPEN
    # A socket that keeps flooding is closed.
    async with await seated(room) as ws:
        with contextlib.suppress(ConnectionClosed):
            for _ in range(120):
                await ws.send(ping)
        codes: list[str] = []
        async with asyncio.timeout(TIMEOUT):
            with contextlib.suppress(ConnectionClosed):
                while True:
                    message = json.loads(await ws.recv())
                    if message["type"] == "error":
                        codes.append(message["code"])
        assert "rate-limited" in codes
        assert ws.close_code == CloseCode.RATE_LIMITED
    await room.still_works()


@pytest.mark.asyncio
async def test_a_tampered_token_is_refused_with_4001(room):
    token = await room.join()
    for bad in (tampered(token), "not-a-token", token[: len(token) // 2]):
        error, close = await refused(room.ws_url, hello(bad))
        assert error["code"] == "bad-token"
        assert close == CloseCode.BAD_TOKEN
    await room.still_works()


@pytest.mark.asyncio
async def test_a_token_of_another_room_is_refused(room):
    story = await room.server.story(LONG_VOTE)
    other = (await room.server.http.post("/api/rooms", json={"story_id": story})).json()
    foreign = await join_room(room.server.url, other["code"], "stray", http=room.server.http)
    for token, role in ((foreign.token, "phone"), (other["host_token"], "host")):
        error, close = await refused(room.ws_url, hello(token, role))
        assert error["code"] == "bad-token"
        assert close == CloseCode.BAD_TOKEN
    await room.still_works()


@pytest.mark.asyncio
async def test_a_host_token_said_as_a_phone_is_refused(room):
    error, close = await refused(room.ws_url, hello(room.host_token, "phone"))
    assert error["code"] == "bad-token"
    assert close == CloseCode.BAD_TOKEN
    error, close = await refused(room.ws_url, hello(await room.join(), "host"))
    assert error["code"] == "bad-token"
    await room.still_works()


@pytest.mark.asyncio
async def test_a_wrong_room_code_is_not_found(room):
    wrong = wrong_code(room.code)
    response = await room.server.http.post(f"/api/rooms/{wrong}/join", json={"nickname": "x"})
    assert response.status_code == 404
    assert response.json()["error"] == "room-not-found"
    assert (await room.server.http.get("/api/rooms/NOT-A-CODE")).status_code == 404
    url = f"{room.server.ws_url}/ws/rooms/{wrong}"
    error, close = await refused(url, hello(await room.join()))
    assert error["code"] == "room-not-found"
    assert close == CloseCode.ROOM_NOT_FOUND
    await room.still_works()


@pytest.mark.asyncio
async def test_too_many_wrong_codes_from_one_address_are_rate_limited(tmp_path):
    async with (
        running(settings_for(tmp_path, join_attempts_per_min=3)) as server,
        open_room(server) as room,
    ):
        wrong = wrong_code(room.code)
        for _ in range(3):
            response = await server.http.post(f"/api/rooms/{wrong}/join", json={"nickname": "x"})
            assert response.status_code == 404
        # Spent: now a wrong and a right code get the same answer, so a sweep of the code
        # space learns nothing.
        for code in (wrong, room.code):
            response = await server.http.post(f"/api/rooms/{code}/join", json={"nickname": "x"})
            assert response.status_code == 429
            assert response.json()["error"] == "rate-limited"
        error, close = await refused(room.ws_url, hello(room.host_token, "host"))
        assert error["code"] == "rate-limited"
        assert close == CloseCode.RATE_LIMITED
        # The phones already in the room are not affected.
        await room.still_works()


@pytest.mark.asyncio
async def test_a_bad_origin_cannot_open_a_socket(room):
    with pytest.raises(InvalidStatus) as refusal:
        await raw(room.ws_url, origin="http://evil.example")
    assert refusal.value.response.status_code == 403
    port = room.server.url.rsplit(":", 1)[1]
    async with await raw(room.ws_url, origin=f"http://127.0.0.1:{port}") as ws:
        await ws.send(hello(await room.join()))
        assert (await receive(ws))["type"] == "welcome"
    await room.still_works()


# -- votes outside their window ----------------------------------------------------------


@pytest.mark.asyncio
async def test_a_vote_before_its_window_opens_is_not_open(room):
    early = await room.phone.vote("hall", option="left", timeout=TIMEOUT)
    assert isinstance(early, VoteRejectedMessage)
    assert early.code == "not-open"
    await room.still_works()


@pytest.mark.asyncio
async def test_a_vote_after_its_window_closed_is_window_closed(room):
    await room.host.host("skip")  # decides the door now, from the ballots so far
    hall = await room.phone.next_vote_open(timeout=TIMEOUT)
    assert hall.choice == "hall"
    assert room.phone.last_decision is not None
    assert room.phone.last_decision.option == "open"  # the good phone's vote counted
    late = await room.phone.vote("door", option="wait", timeout=TIMEOUT)
    assert isinstance(late, VoteRejectedMessage)
    assert late.code == "window-closed"
    assert isinstance(await room.phone.vote("hall", option="right"), VoteAck)


# -- HTTP --------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_broken_story_upload_gets_the_validators_codes_and_lines(live):
    broken = LONG_VOTE.replace("goto: hall}", "goto: attic}", 1)
    response = await live.http.post("/api/stories", json={"source": broken})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "story-invalid"
    found = [(d["code"], d["line"]) for d in body["diagnostics"]]
    line = next(n for n, text in enumerate(broken.splitlines(), 1) if "attic" in text)
    assert ("unknown-target", line) in found, found


@pytest.mark.asyncio
async def test_an_unknown_policy_is_refused(live):
    story = await live.story(LONG_VOTE)
    response = await live.http.post("/api/rooms", json={"story_id": story, "policy": "dice"})
    assert response.status_code == 422
    assert response.json()["error"] == "unknown-policy"


@pytest.mark.asyncio
async def test_the_report_needs_the_host_token(room):
    url = f"/api/rooms/{room.code}/report"
    http = room.server.http
    response = await http.get(url)
    assert (response.status_code, response.json()["error"]) == (401, "bad-token")
    forged = tampered(room.host_token)
    response = await http.get(url, headers={"Authorization": f"Bearer {forged}"})
    assert (response.status_code, response.json()["error"]) == (401, "bad-token")
    phone = await room.join()
    response = await http.get(url, headers={"Authorization": f"Bearer {phone}"})
    assert (response.status_code, response.json()["error"]) == (403, "forbidden")
    response = await http.get(url, headers={"Authorization": f"Bearer {room.host_token}"})
    assert response.status_code == 200
    await room.still_works()
