"""The Python phone client: hold a room's WebSocket, vote, sync the clock, reconnect.

Tests, ``kinoroom demo`` bots and ``kinoroom loadtest`` drive rooms through it. A shell:
``time.monotonic()`` is the page clock, `ClockSync` does the arithmetic, `join_room`
gets the token over HTTP, `mobile_bridge.reconnect` says what a close means.

`PhoneClient.connect` says ``hello`` and waits for ``welcome``; then one *session
task*, owned by the client and cancelled by `close`, reads frames, keeps `state`,
`open_vote`, `last_decision`, `presence`, resolves waits and reconnects. Every wait has
a timeout (`TimeoutError`); once the session is over for good, every wait fails with
the `ClientError` that ended it.

After a close that allows it the client comes back with the same token after a
`Backoff` and takes the state from the new ``welcome``. A vote still waiting for its
ack is sent again *with the same seq*: the server keeps one live vote per device and
choice, and acks an equal seq again as the same vote, so the re-send is harmless
whether or not the first one was committed. Nothing else is replayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import urllib.parse
from collections.abc import Callable, Iterator
from typing import TypeAlias, TypeVar, overload

from pydantic import BaseModel, ValidationError
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from mobile_bridge import protocol as wire
from mobile_bridge.client_memory import Incoming, RoomMemory
from mobile_bridge.clock import ClockSync
from mobile_bridge.join import JoinResult, join_room
from mobile_bridge.reconnect import Backoff, ClientError, refused_upgrade, session_end

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
_Received: TypeAlias = tuple[Incoming, float]  # a message and the page time it arrived
_Waiter: TypeAlias = tuple[Callable[[Incoming], bool], "asyncio.Future[_Received]"]


class PhoneClient(RoomMemory):
    """One page's session with a room: a phone by default, or a screen or a host.

    What the room said last is kept in the attributes of `RoomMemory` (``state``,
    ``open_vote``, ``last_decision``, ``tally``, ``presence``, ``mood``, ``ended``).

    Args:
        url_base: the server, ``http(s)://host:port`` or ``ws(s)://host:port``.
        room: the room code.
        token: the device token from `join_room` (or the host token).
        timeout_s: the default for every wait, the handshake included.
        backoff: the reconnect schedule; ``Backoff(attempts=0)`` never reconnects.
        name: sent in ``hello`` as ``client``, for the server's logs.
        rng: randomness for the backoff jitter.

    Raises:
        ValueError: ``url_base`` is not an http(s) or ws(s) URL.
    """

    def __init__(
        self,
        url_base: str,
        room: str,
        token: str,
        role: wire.Role = "phone",
        *,
        timeout_s: float = 10.0,
        backoff: Backoff | None = None,
        name: str = "kinoroom-python-client",
        rng: random.Random | None = None,
    ) -> None:
        scheme, sep, rest = url_base.rstrip("/").partition("://")
        ws_scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(scheme.lower())
        if not sep or ws_scheme is None:
            raise ValueError(f"url_base must be an http(s) or ws(s) URL, not {url_base!r}")
        self.url = f"{ws_scheme}://{rest}/ws/rooms/{urllib.parse.quote(room, safe='')}"
        self.room, self.token, self.role, self.name = room, token, role, name
        self.timeout_s, self.backoff = timeout_s, backoff or Backoff()
        self.clock = ClockSync()
        self.reconnects = 0
        self._rng = rng or random.Random()
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self.closed: ClientError | None = None  # why the session ended for good
        self._waiters: list[_Waiter] = []
        self._pending: dict[tuple[str, int], tuple[wire.Vote, asyncio.Future[_Received]]] = {}
        self._seq = self._ping_id = self._host_id = 0
        self._seen_vote: tuple[str, float] | None = None
        self._bye: wire.Bye | None = None  # both per socket: what the server said last
        self._socket_error: wire.Error | None = None

    async def connect(self) -> wire.Welcome:
        """Open the socket, say hello, start the session task.

        Raises:
            ClientError: refused (``bad-token``, ``room-not-found``…) or ``unreachable``.
            TimeoutError: no ``welcome`` within ``timeout_s``.
        """
        if self._task is not None:
            raise RuntimeError("connect() was already called on this client")
        self._ws = await self._open()
        self._task = asyncio.create_task(self._run(), name=f"phone-client-{self.room}")
        assert self.welcome is not None
        return self.welcome

    async def close(self) -> None:
        """End the session: stop the session task, close the socket, fail every wait."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise
        if self._ws is not None:
            await self._ws.close()
        self._finish(ClientError("closed", "the client closed the session"))

    async def __aenter__(self) -> PhoneClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def device(self) -> str | None:
        return self.welcome.device if self.welcome else None

    @overload
    async def wait_for(self, kind: type[M], timeout: float | None = None) -> M: ...
    @overload
    async def wait_for(
        self, kind: Callable[[Incoming], bool], timeout: float | None = None
    ) -> Incoming: ...
    async def wait_for(
        self, kind: type[BaseModel] | Callable[[Incoming], bool], timeout: float | None = None
    ) -> BaseModel:
        """The next server message (arriving after this call) of a class or passing a test.

        Raises:
            TimeoutError: nothing matched in ``timeout`` s (``timeout_s`` when None).
            ClientError: the session ended.
        """
        if isinstance(kind, type):
            cls = kind
            kind = lambda m: isinstance(m, cls)  # noqa: E731
        with self._expect(kind) as future:
            message, _ = await self._await(future, timeout)
        return message

    async def next_vote_open(self, timeout: float | None = None) -> wire.VoteOpen:
        """The open vote this call has not returned yet: the current one, or the next.

        Raises:
            TimeoutError: no new vote opened in time.
            ClientError: the session ended.
        """

        def fresh(vote: wire.VoteOpen | None) -> bool:
            return vote is not None and (vote.choice, vote.opens_at) != self._seen_vote

        vote = self.open_vote
        if not fresh(vote):
            vote = _vote_in(await self.wait_for(lambda m: fresh(_vote_in(m)), timeout))
        assert vote is not None
        self._seen_vote = (vote.choice, vote.opens_at)
        return vote

    async def vote(
        self,
        choice: str,
        option: str | None = None,
        ranking: list[str] | None = None,
        approve: list[str] | None = None,
        *,
        timeout: float | None = None,
    ) -> wire.VoteAck | wire.VoteRejectedMessage:
        """Cast (or replace) this device's vote and wait for the verdict.

        The seq is this client's own increasing counter; a reconnect on the way sends the
        vote again with the same seq (see the module docstring).

        Raises:
            ValueError: not exactly one of ``option``, ``ranking``, ``approve``.
            TimeoutError: no ack or rejection in time.
            ClientError: the session ended.
        """
        if sum(kind is not None for kind in (option, ranking, approve)) != 1:
            raise ValueError("give exactly one of option, ranking, approve")
        ballot = {"option": option, "ranking": ranking, "approve": approve}
        cast = {"choice": choice, "seq": self._seq + 1, "cast_t": time.monotonic()}  # ping's clock
        message = wire.Vote.model_validate(cast | ballot)
        if self.closed is not None:
            raise self.closed
        self._seq = message.seq
        future: asyncio.Future[_Received] = asyncio.get_running_loop().create_future()
        self._pending[choice, message.seq] = (message, future)
        try:
            await self._send(message, resend=True)
            reply, _ = await self._await(future, timeout)
        finally:
            del self._pending[choice, message.seq]
        assert isinstance(reply, wire.VoteAck | wire.VoteRejectedMessage)
        return reply

    async def sync_clock(self, samples: int = 8, timeout: float | None = None) -> ClockSync:
        """Run ``samples`` ping/pong exchanges, one after another, into `clock`.

        Raises:
            TimeoutError: a pong did not come back in time.
            ClientError: the socket is down or the session ended.
            ValueError: the server's pong is impossible (sent before the ping arrived).
        """
        for _ in range(samples):
            self._ping_id += 1
            with self._expect(_pong_for(self._ping_id)) as future:
                t0 = time.monotonic()
                await self._send(wire.Ping(id=self._ping_id, t0=t0))
                pong, t3 = await self._await(future, timeout)
            assert isinstance(pong, wire.Pong)
            self.clock.add(t0, pong.t1, pong.t2, t3)
        return self.clock

    def room_now(self) -> float:
        """The room clock now (``welcome`` gives a first, coarse sample; see `sync_clock`)."""
        return self.clock.room_time(time.monotonic())

    async def host(
        self,
        action: wire.HostAction,
        option: str | None = None,
        *,
        show: bool | None = None,
        timeout: float | None = None,
    ) -> wire.HostAck:
        """Send a host command and wait for its ``host_ack``.

        Raises:
            ClientError: ``forbidden`` (not the host), ``host-rejected``, ``bad-message``,
                or the session ended.
            TimeoutError: no answer in time.
        """

        self._host_id += 1
        command_id = self._host_id

        def answer(m: Incoming) -> bool:
            if isinstance(m, wire.HostAck):
                return m.id == command_id
            return isinstance(m, wire.Error) and m.ref == command_id

        with self._expect(answer) as future:
            command = wire.HostCommand(action=action, option=option, show=show, id=command_id)
            await self._send(command)
            reply, _ = await self._await(future, timeout)
        if isinstance(reply, wire.Error):
            raise ClientError(reply.code, reply.message)
        assert isinstance(reply, wire.HostAck)
        return reply

    async def affect(
        self,
        valence: float,
        arousal: float,
        engagement: float,
        *,
        heart_rate_bpm: float | None = None,
        expression: str | None = None,
    ) -> None:
        """Send this viewer's affect numbers; no answer comes back.

        Raises:
            pydantic.ValidationError: a number out of its range.
            ClientError: the socket is down or the session ended.
        """
        numbers = {"valence": valence, "arousal": arousal, "engagement": engagement}
        more = {"heart_rate_bpm": heart_rate_bpm, "expression": expression}
        await self._send(wire.Affect.model_validate(numbers | more))

    def _log(self, level: int, event: str, **fields: object) -> None:
        more = " ".join(f"{key}={value}" for key, value in fields.items())
        log.log(level, "event=%s room=%s device=%s %s", event, self.room, self.device, more)

    async def _send(self, message: BaseModel, *, resend: bool = False) -> None:
        # resend: the message is re-sent after a reconnect, so a dropped socket is no error
        if self.closed is not None:
            raise self.closed
        if self._ws is None:
            raise ClientError("closed", "connect() was not called")
        try:
            await self._ws.send(wire.dump(message))
        except ConnectionClosed as exc:
            if not resend:
                raise ClientError("disconnected", "reconnecting", reconnect=True) from exc

    @contextlib.contextmanager
    def _expect(self, predicate: Callable[[Incoming], bool]) -> Iterator[asyncio.Future[_Received]]:
        # Registered before the request goes out, so a fast answer cannot slip past.
        if self.closed is not None:
            raise self.closed
        waiter: _Waiter = (predicate, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            yield waiter[1]
        finally:
            self._waiters.remove(waiter)

    async def _await(self, future: asyncio.Future[_Received], timeout: float | None) -> _Received:
        async with asyncio.timeout(self.timeout_s if timeout is None else timeout):
            return await future

    def _finish(self, error: ClientError) -> None:
        if self.closed is None:
            self.closed = error
            self._log(logging.INFO, "session-ended", reason=error)
        for future in [f for _, f in self._waiters] + [f for _, f in self._pending.values()]:
            if not future.done():
                future.set_exception(self.closed)

    async def _open(self) -> ClientConnection:
        self._bye = self._socket_error = None
        try:
            ws = await ws_connect(
                self.url,
                open_timeout=self.timeout_s,
                close_timeout=min(self.timeout_s, 2.0),
                compression=None,  # small JSON frames: deflate would cost the server per socket
                proxy=None,
                user_agent_header=self.name,
            )
        except InvalidStatus as exc:
            raise refused_upgrade(self.url, exc.response.status_code) from exc
        except (OSError, InvalidHandshake) as exc:
            raise ClientError("unreachable", f"{self.url}: {exc}", reconnect=True) from exc
        try:
            t0 = time.monotonic()
            hello = wire.Hello(protocol=wire.PROTOCOL_VERSION, role=self.role, token=self.token,
                               client=self.name, t0=t0)  # fmt: skip
            await ws.send(wire.dump(hello))
            async with asyncio.timeout(self.timeout_s):
                while not isinstance(message := self._parse(await ws.recv()), wire.Welcome):
                    if isinstance(message, wire.Error):
                        raise ClientError(message.code, message.message)
                    if isinstance(message, wire.Bye):
                        raise ClientError("closed", message.reason, reconnect=message.reconnect)
            t3 = time.monotonic()
        except ConnectionClosed as exc:
            raise self._closed_error(ws) from exc
        except BaseException:
            await ws.close()
            raise
        self.welcome, self.state, self.open_vote = message, message.state, message.state.vote
        # welcome.now was read between hello's arrival and welcome's departure: a valid
        # (if slow) clock sample, so room_now() works before any ping.
        with contextlib.suppress(ValueError):
            self.clock.add(t0, message.now, message.now, t3)
        live_seq = message.your_vote.seq if message.your_vote is not None else None
        if isinstance(live_seq, int):  # a restarted bot must not send stale seqs
            self._seq = max(self._seq, live_seq)
        self._dispatch(message, t3)
        return ws

    async def _run(self) -> None:
        try:
            while True:
                assert self._ws is not None
                with contextlib.suppress(ConnectionClosed):
                    async for frame in self._ws:
                        received = time.monotonic()
                        if (message := self._parse(frame)) is not None:
                            self._handle(message, received)
                            if isinstance(message, wire.Welcome):  # a room that resynced us
                                await self._resend_pending()
                error = self._closed_error(self._ws)
                if not error.reconnect:
                    raise error
                self._log(logging.INFO, "disconnected", why=error)
                await self._reconnect(error)
        except ClientError as exc:
            self._finish(exc)
        except Exception as exc:
            self._finish(ClientError("internal", f"client bug: {exc!r}"))
            raise
        finally:
            self._finish(ClientError("closed", "the client closed the session"))

    async def _reconnect(self, cause: ClientError) -> None:
        last = cause
        for attempt in range(self.backoff.attempts):
            await asyncio.sleep(self.backoff.delay_s(attempt, self._rng))
            try:
                self._ws = await self._open()
            except ClientError as exc:
                if not exc.reconnect:
                    raise
                last = exc
                continue
            except TimeoutError:
                last = ClientError("unreachable", "no welcome in time", reconnect=True)
                continue
            self.reconnects += 1
            self._log(logging.INFO, "reconnected", attempt=attempt)
            await self._resend_pending()
            return
        raise ClientError(
            "connection-lost",
            f"gave up after {self.backoff.attempts} reconnect attempts; last: {last}",
            close_code=cause.close_code,
        )

    async def _resend_pending(self) -> None:
        for vote, _ in list(self._pending.values()):
            await self._send(vote, resend=True)

    def _closed_error(self, ws: ClientConnection) -> ClientError:
        reason = ws.close_reason or ""
        return session_end(ws.close_code, reason, bye=self._bye, error=self._socket_error)

    def _parse(self, frame: str | bytes) -> Incoming | None:
        try:
            return wire.parse_server_message(frame)
        except ValidationError as exc:  # a newer server's message: skip it, keep the session
            self._log(logging.WARNING, "unparsed-message", error=exc.errors()[0]["msg"])
            return None

    def _handle(self, message: Incoming, received: float) -> None:
        if not isinstance(message, wire.Error | wire.Bye):
            self._socket_error = None  # only an error right before the close explains it
        self._remember(message)
        match message:
            case wire.VoteAck() | wire.VoteRejectedMessage():
                pending = self._pending.get((message.choice, message.seq))
                if pending is not None and not pending[1].done():
                    pending[1].set_result((message, received))
            case wire.Error():
                self._socket_error = message
                self._log(logging.WARNING, "server-error", code=message.code)
            case wire.Bye():
                self._bye = message
        self._dispatch(message, received)

    def _dispatch(self, message: Incoming, received: float) -> None:
        for predicate, future in list(self._waiters):
            if future.done():
                continue
            try:
                if predicate(message):
                    future.set_result((message, received))
            except Exception as exc:  # the caller's predicate is broken: tell the caller
                future.set_exception(exc)


def _pong_for(ping_id: int) -> Callable[[Incoming], bool]:
    return lambda m: isinstance(m, wire.Pong) and m.id == ping_id


def _vote_in(message: Incoming) -> wire.VoteOpen | None:
    if isinstance(message, wire.Welcome):
        return message.state.vote
    if isinstance(message, wire.State):
        return message.vote
    return message if isinstance(message, wire.VoteOpen) else None


__all__ = ["Backoff", "ClientError", "Incoming", "JoinResult", "PhoneClient", "join_room"]
