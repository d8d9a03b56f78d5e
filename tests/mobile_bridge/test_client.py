"""The Python phone client against a tiny room server on a real socket (127.0.0.1, port 0).

`FakeRoom` speaks just enough of the protocol: hello → welcome, ping → pong, vote →
vote_ack / vote_rejected with the server's seq rules, a few host commands, and it drops
sockets when a test tells it to. Its room clock is ``time.monotonic() + ROOM_OFFSET``,
so the client's clock estimate can be checked against the truth.
"""

from __future__ import annotations

import ast
import asyncio
import json
import os
import random
import time
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from websockets.asyncio.server import ServerConnection, serve

from mobile_bridge.client import Backoff, ClientError, PhoneClient, join_room
from mobile_bridge.join import error_fields
from mobile_bridge.protocol import (
    Bye,
    CloseCode,
    DecisionMessage,
    Ended,
    Error,
    Hello,
    HostAck,
    HostCommand,
    LiveVote,
    OptionView,
    Ping,
    Pong,
    State,
    Turnout,
    Vote,
    VoteAck,
    VoteOpen,
    VoteRejectedMessage,
    Welcome,
    dump,
    parse_client_message,
)
from mobile_bridge.reconnect import session_end

TIMEOUT = 5.0 * float(os.environ.get("KINOROOM_TEST_TIMEOUT_SCALE", "1"))
ROOM_OFFSET = 1234.5
TOKEN = "good-token"
FAST = Backoff(attempts=3, first_s=0.01, cap_s=0.05)


class FakeRoom:
    def __init__(self) -> None:
        self.url = ""
        self.hellos: list[Hello] = []
        self.votes: list[Vote] = []
        self.affects: list[object] = []
        self.live: dict[str, Vote] = {}
        self.sockets: set[ServerConnection] = set()
        self.scene = "intro"
        self.open: VoteOpen | None = None
        self.restart_on_vote = 0  # close this many sockets with 1012 on a vote, before acking

    @staticmethod
    def now() -> float:
        return time.monotonic() + ROOM_OFFSET

    def state(self) -> State:
        return State(
            phase="playing",
            scene=self.scene,
            variant=0,
            media=f"/media/{self.scene}.ts",
            music_gain_db=0.0,
            starts_at=ROOM_OFFSET,
            ends_at=None,
            vote=self.open,
        )

    async def broadcast(self, message) -> None:
        for ws in list(self.sockets):
            await ws.send(dump(message))

    async def drop(self, code: int, reason: str = "restarting", bye: Bye | None = None) -> None:
        for ws in list(self.sockets):
            if bye is not None:
                await ws.send(dump(bye))
            await ws.close(code, reason)

    async def handler(self, ws: ServerConnection) -> None:
        hello = parse_client_message(await ws.recv())
        assert isinstance(hello, Hello)
        self.hellos.append(hello)
        if hello.token != TOKEN:
            await ws.send(dump(Error(code="bad-token", message="this token was not issued here")))
            await ws.close(CloseCode.BAD_TOKEN, "bad-token")
            return
        live = self.live.get(self.open.choice) if self.open else None
        welcome = Welcome(
            protocol=1,
            room="KX7P2M",
            role=hello.role,
            device="dev-1",
            nickname="Ada",
            title="The Door",
            mode="phones-play",
            now=self.now(),
            state=self.state(),
            your_vote=LiveVote(**live.model_dump(exclude={"type", "cast_t"})) if live else None,
        )
        self.sockets.add(ws)
        try:
            await ws.send(dump(welcome))
            async for frame in ws:
                t1 = self.now()
                await self.answer(ws, parse_client_message(frame), t1)
        finally:
            self.sockets.discard(ws)

    async def answer(self, ws: ServerConnection, message, t1: float) -> None:
        match message:
            case Ping():
                await ws.send(dump(Pong(id=message.id, t0=message.t0, t1=t1, t2=self.now())))
            case Vote():
                self.votes.append(message)
                if self.restart_on_vote:
                    self.restart_on_vote -= 1
                    await ws.close(CloseCode.RESTART, "restarting")
                    return
                await ws.send(dump(self.judge(message)))
            case HostCommand(action="start"):
                self.open = VoteOpen(
                    choice="door",
                    prompt="Which door?",
                    options=[
                        OptionView(id="left", label="Left"),
                        OptionView(id="right", label="Right"),
                    ],
                    ballot="option",
                    policy="plurality",
                    opens_at=self.now(),
                    closes_at=self.now() + 10,
                )
                await ws.send(dump(HostAck(action="start", id=message.id)))
                await self.broadcast(self.open)
            case HostCommand(action="force"):
                assert self.open is not None and message.option is not None
                decision = DecisionMessage(
                    choice=self.open.choice,
                    option=message.option,
                    label=message.option.title(),
                    goto=f"{message.option}-room",
                    reason="forced by the host",
                    policy="host",
                    tally={message.option: 1.0},
                    turnout=Turnout(voted=1, present=1),
                    at=self.now(),
                )
                self.open = None
                await self.broadcast(decision)
                await ws.send(dump(HostAck(action="force", id=message.id)))
            case HostCommand(action="end"):
                await ws.send('{"type": "confetti", "amount": 11}')  # from a newer server
                await self.broadcast(Ended(reason="host", at=self.now()))
                await ws.send(dump(HostAck(action="end", id=message.id)))
            case HostCommand():
                await ws.send(
                    dump(Error(code="host-rejected", message="nothing to skip", ref=message.id))
                )
            case _:
                self.affects.append(message)

    def judge(self, vote: Vote) -> VoteAck | VoteRejectedMessage:
        if self.open is None or vote.choice != self.open.choice:
            return VoteRejectedMessage(choice=vote.choice, seq=vote.seq, code="not-open")
        if vote.option not in {o.id for o in self.open.options}:
            return VoteRejectedMessage(choice=vote.choice, seq=vote.seq, code="unknown-option")
        live = self.live.get(vote.choice)
        if live is not None and vote.seq < live.seq:
            return VoteRejectedMessage(choice=vote.choice, seq=vote.seq, code="stale-seq")
        replaced = live is not None and vote.seq > live.seq
        self.live[vote.choice] = vote
        return VoteAck(choice=vote.choice, seq=vote.seq, replaced=replaced)


@pytest_asyncio.fixture
async def room():
    asyncio.get_running_loop().set_debug(True)
    fake = FakeRoom()
    async with serve(fake.handler, "127.0.0.1", 0, compression=None) as server:
        fake.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        fake.server = server
        yield fake


@pytest_asyncio.fixture
async def client(room):
    phone = PhoneClient(room.url, "KX7P2M", TOKEN, timeout_s=TIMEOUT, backoff=FAST)
    async with phone:
        yield phone


@pytest_asyncio.fixture
async def host(room):
    async with PhoneClient(room.url, "KX7P2M", TOKEN, "host", timeout_s=TIMEOUT) as client:
        yield client


@pytest.mark.asyncio
async def test_connect_says_hello_and_takes_the_state_from_welcome(room, client):
    assert room.hellos[0].token == TOKEN and room.hellos[0].role == "phone"
    assert room.hellos[0].protocol == 1
    assert client.device == "dev-1"
    assert client.state is not None and client.state.scene == "intro"
    assert client.open_vote is None
    # welcome.now alone already places the room clock within its round trip
    assert abs(client.room_now() - room.now()) <= client.clock.error_bound + 0.01


@pytest.mark.asyncio
async def test_clock_sync_is_within_2_ms_on_loopback(room, client):
    clock = await client.sync_clock(samples=8)
    assert clock.synced
    error = abs(clock.offset - ROOM_OFFSET)
    assert error <= clock.error_bound
    assert error <= 0.002
    assert abs(client.room_now() - room.now()) <= 0.002


@pytest.mark.asyncio
async def test_votes_are_matched_to_their_own_ack(room, client, host):
    await host.host("start")
    vote = await client.next_vote_open()
    assert vote.choice == "door" and [o.id for o in vote.options] == ["left", "right"]

    first, other = await asyncio.gather(
        client.vote("door", option="left"), client.vote("window", option="up")
    )
    assert first == VoteAck(choice="door", seq=1, replaced=False)
    assert other == VoteRejectedMessage(choice="window", seq=2, code="not-open")
    again = await client.vote("door", option="right")
    assert again == VoteAck(choice="door", seq=3, replaced=True)
    wrong = await client.vote("door", option="middle")
    assert isinstance(wrong, VoteRejectedMessage) and wrong.code == "unknown-option"
    assert [v.seq for v in room.votes] == [1, 2, 3, 4]


@pytest.mark.asyncio
async def test_next_vote_open_returns_each_vote_once_and_decision_closes_it(client, host):
    await host.host("start")
    vote = await client.next_vote_open()
    with pytest.raises(TimeoutError):
        await client.next_vote_open(timeout=0.05)  # the same vote is not "next" again
    await client.host("force", option="left")  # decision then host_ack, in that order
    assert client.last_decision is not None and client.last_decision.option == "left"
    assert client.last_decision.choice == vote.choice
    assert client.open_vote is None


@pytest.mark.asyncio
async def test_reconnect_after_restart_resends_the_pending_vote(room, client, host):
    await host.host("start")
    await client.next_vote_open()
    room.restart_on_vote = 1  # the server restarts before it acks the vote
    room.scene = "hall"
    ack = await client.vote("door", option="left")
    assert ack == VoteAck(choice="door", seq=1, replaced=False)
    assert [(v.choice, v.seq) for v in room.votes] == [("door", 1), ("door", 1)]
    assert [h.token for h in room.hellos[-2:]] == [TOKEN, TOKEN]
    assert client.reconnects == 1
    assert client.state is not None and client.state.scene == "hall"  # from the new welcome
    assert await client.vote("door", option="right") == VoteAck(choice="door", seq=2, replaced=True)


@pytest.mark.asyncio
async def test_server_going_away_then_back_keeps_the_session(room, client, host):
    await host.host("start")
    await room.drop(CloseCode.RESTART)
    ack = await client.vote("door", option="right")  # sent into the drop or after it
    assert isinstance(ack, VoteAck)
    assert client.reconnects >= 1 and client.closed is None
    await client.sync_clock(samples=2)


@pytest.mark.asyncio
async def test_a_restarted_bot_continues_after_the_live_seq(room, client, host):
    await host.host("start")
    await client.next_vote_open()
    for option in ("left", "right", "left"):
        await client.vote("door", option=option)
    async with PhoneClient(room.url, "KX7P2M", TOKEN, timeout_s=TIMEOUT) as again:
        assert again.welcome is not None and again.welcome.your_vote is not None
        ack = await again.vote("door", option="right")
    assert ack == VoteAck(choice="door", seq=4, replaced=True)


@pytest.mark.asyncio
async def test_bad_token_raises_client_error(room):
    phone = PhoneClient(room.url, "KX7P2M", "forged", timeout_s=TIMEOUT)
    with pytest.raises(ClientError) as caught:
        await phone.connect()
    assert caught.value.code == "bad-token"
    assert not caught.value.reconnect


@pytest.mark.asyncio
async def test_bye_without_reconnect_ends_the_session(room, client):
    waiting = asyncio.create_task(client.wait_for(Ended))
    await room.drop(CloseCode.NORMAL, "bye", bye=Bye(reason="room closed", reconnect=False))
    with pytest.raises(ClientError, match="room closed"):
        await waiting
    assert client.closed is not None and client.closed.close_code == 1000
    assert client.reconnects == 0
    with pytest.raises(ClientError):
        await client.vote("door", option="left")


@pytest.mark.asyncio
async def test_reconnecting_gives_up_after_bounded_attempts(room, client):
    room.server.close()  # closes every socket with 1001 and stops listening
    await room.server.wait_closed()
    with pytest.raises(ClientError) as caught:
        await client.wait_for(Welcome)
    assert caught.value.code == "connection-lost"
    assert client.closed is caught.value
    assert len(room.hellos) == 1


@pytest.mark.asyncio
async def test_host_commands_and_unknown_messages(room, host):
    with pytest.raises(ClientError) as caught:
        await host.host("skip")
    assert caught.value.code == "host-rejected"
    assert (await host.host("end")).action == "end"  # after an unknown "confetti"
    assert host.ended is not None and host.ended.reason == "host"


@pytest.mark.asyncio
async def test_affect_sends_numbers_only(room, client):
    await client.affect(0.5, -0.25, 0.9, heart_rate_bpm=72.0)
    await client.sync_clock(samples=1)  # the server answers in order: the affect is in
    (affect,) = room.affects
    assert (affect.valence, affect.arousal, affect.engagement) == (0.5, -0.25, 0.9)
    with pytest.raises(ValueError, match="valence"):
        await client.affect(3.0, 0.0, 0.0)


@pytest.mark.asyncio
async def test_vote_needs_exactly_one_ballot(client):
    with pytest.raises(ValueError, match="exactly one"):
        await client.vote("door")
    with pytest.raises(ValueError, match="exactly one"):
        await client.vote("door", option="left", ranking=["left"])


@pytest.mark.asyncio
async def test_close_fails_pending_waits_and_leaves_no_task(room, client):
    waiting = asyncio.create_task(client.wait_for(lambda m: False, timeout=TIMEOUT))
    await client.sync_clock(samples=1)
    await client.close()
    with pytest.raises(ClientError, match="closed"):
        await waiting
    assert client._task is None


def test_url_base_must_be_http_or_ws():
    assert PhoneClient("https://kino.example/", "AB", "t").url == "wss://kino.example/ws/rooms/AB"
    assert PhoneClient("ws://h:1", "AB", "t").url == "ws://h:1/ws/rooms/AB"
    with pytest.raises(ValueError, match="http"):
        PhoneClient("kino.example", "AB", "t")


# -- reconnect rules (pure) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("close_code", "bye", "error", "code", "reconnect"),
    [
        (1012, None, None, "shutting-down", True),
        (1001, None, None, "shutting-down", True),
        (4009, None, None, "slow-consumer", True),
        (1006, None, None, "closed", True),
        (4001, None, Error(code="bad-token", message="x"), "bad-token", False),
        (1000, None, Error(code="room-not-found", message="x"), "room-not-found", False),
        (1000, Bye(reason="restarting", reconnect=True), None, "closed", True),
        (1012, Bye(reason="room ended", reconnect=False), None, "shutting-down", False),
        (4005, None, None, "protocol-version", False),
    ],
)
def test_what_a_close_means(close_code, bye, error, code, reconnect):
    ended = session_end(close_code, "", bye=bye, error=error)
    assert (ended.code, ended.reconnect, ended.close_code) == (code, reconnect, close_code)


def test_backoff_grows_is_capped_and_jittered():
    backoff, rng = Backoff(attempts=10, first_s=0.1, cap_s=2.0, jitter=0.5), random.Random(7)
    delays = [backoff.delay_s(n, rng) for n in range(10)]
    for n, delay in enumerate(delays):
        ceiling = min(2.0, 0.1 * 2**n)
        assert ceiling / 2 <= delay <= ceiling
    assert len(set(delays)) == 10
    with pytest.raises(ValueError, match="backoff"):
        Backoff(jitter=2.0)


def test_reconnect_module_is_pure():
    path = Path(__file__).resolve().parents[2] / "mobile_bridge" / "reconnect.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {
        alias.name.split(".")[0]
        for node in tree.body
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module.split(".")[0]
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert not top & {"asyncio", "socket", "time", "logging", "os", "random", "websockets"}


# -- join over HTTP ---------------------------------------------------------------------


def mock_http(status: int, body: object) -> httpx.AsyncClient:
    def reply(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/rooms/KX7P2M/join"
        assert json.loads(request.content) == {"nickname": "Ada"}
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    return httpx.AsyncClient(transport=httpx.MockTransport(reply))


@pytest.mark.asyncio
async def test_join_room_returns_device_and_token():
    async with mock_http(200, {"device": "dev-9", "token": "tok"}) as http:
        joined = await join_room("http://kino.test/", "KX7P2M", "Ada", http=http)
    assert (joined.device, joined.token) == ("dev-9", "tok")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (404, {"error": "room-not-found", "message": "no room KX7P2M"}, "room-not-found"),
        (429, {"detail": {"code": "rate-limited", "message": "slow down"}}, "rate-limited"),
        (403, {"code": "forbidden"}, "forbidden"),
        (500, "<html>oops</html>", "http-500"),
        (200, {"device": "dev-9"}, "bad-message"),
    ],
)
async def test_join_room_errors_carry_the_server_code(status, body, code):
    async with mock_http(status, body) as http:
        with pytest.raises(ClientError) as caught:
            await join_room("http://kino.test", "KX7P2M", "Ada", http=http)
    assert caught.value.code == code


@pytest.mark.asyncio
async def test_join_room_unreachable(room):
    room.server.close()
    await room.server.wait_closed()
    port = room.url.rsplit(":", 1)[1]
    with pytest.raises(ClientError) as caught:
        await join_room(f"http://127.0.0.1:{port}", "KX7P2M", "Ada", timeout_s=TIMEOUT)
    assert caught.value.code == "unreachable"


def test_error_fields_of_common_bodies():
    assert error_fields({"error": {"code": "x", "message": "m"}}) == ("x", "m")
    assert error_fields({"detail": "Not Found"}) == (None, "Not Found")
    assert error_fields(["nope"]) == (None, None)
