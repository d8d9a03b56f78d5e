"""The page socket: ``/ws/rooms/{code}``, one per phone, screen or host page.

The handler only moves bytes: it checks the Origin, waits for ``hello``, comes in
through the room's one door (`server.admission.Door`: room code, token, role, the
failed-join budget), then reads frames (size limit, rate limit, parse) and puts what the
room must decide into the room's inbox; a writer task drains the page's outbox onto the
socket. Pongs are answered here, stamped with the room clock as the ping arrives (t1)
and as the pong leaves (t2), so clock sync does not measure the room's queue. The pings
also bound the page's clock (`OffsetCeiling`), which turns a vote's ``cast_t`` into the
latest room time it can have been cast at.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from mobile_bridge.clock import OffsetCeiling
from mobile_bridge.protocol import (
    PROTOCOL_VERSION,
    Affect,
    Bye,
    CloseCode,
    Error,
    Hello,
    HostCommand,
    Ping,
    Playout,
    Pong,
    ProtocolError,
    Vote,
    dump,
    parse_client_message,
)
from narrative.ids import DeviceId
from server.admission import Refused
from server.logs import device_var, room_var
from server.network.addresses import origin_of
from server.ratelimit import Bucket
from server.rooms.clock import RoomClock
from server.rooms.inbox import Incoming
from server.rooms.outbox import Item, Outbox
from server.rooms.page import Page
from server.rooms.playout import ROLES, Report
from server.rooms.room import Room
from server.services import Services

log = logging.getLogger(__name__)
router = APIRouter()

HELLO_TIMEOUT_S = 10.0
STRIKES_BEFORE_CLOSE = 20  # rate-limit errors a socket may earn before it is closed


def _origin_allowed(websocket: WebSocket, svc: Services) -> bool:
    """Browsers send Origin: it must be this server (or a configured one). Bots send none.

    "This server" is the public URL's origin (behind a reverse proxy the Host header the
    app sees may lack the public port or name) or the Host the page was loaded from.
    """
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    if origin in svc.settings.allowed_origins:
        return True
    public = svc.settings.public_url
    if public and origin_of(origin) == origin_of(public):
        return True
    return urlsplit(origin).netloc == websocket.headers.get("host")


async def _refuse(websocket: WebSocket, svc: Services, code: str, message: str, close: int) -> None:
    svc.metrics.protocol_errors.labels(code).inc()
    await websocket.send_text(dump(Error(code=code, message=message)))
    await websocket.close(close, message[:120])


@router.websocket("/ws/rooms/{code}")
async def page_socket(websocket: WebSocket, code: str) -> None:
    svc: Services = websocket.app.state.services
    if not _origin_allowed(websocket, svc):
        await websocket.close(CloseCode.POLICY, "origin not allowed")
        return
    await websocket.accept()
    address = websocket.client.host if websocket.client else "?"
    try:
        await svc.door.knock(address, time.monotonic())
    except Refused as refused:
        await _refuse(websocket, svc, refused.code, refused.message, refused.close)
        return
    try:
        async with asyncio.timeout(HELLO_TIMEOUT_S):
            first = await websocket.receive_text()
        read_at = time.monotonic()
        hello = parse_client_message(first)
    except WebSocketDisconnect:
        return  # gone, or its first frame refused by the transport (1007, 1009): closed already
    except (TimeoutError, KeyError):  # KeyError: a binary first frame
        await websocket.close(CloseCode.POLICY, "no hello")
        return
    except ProtocolError as exc:
        close = CloseCode.TOO_LARGE if exc.code == "too-large" else CloseCode.POLICY
        await _refuse(websocket, svc, exc.code, exc.message, close)
        return
    if not isinstance(hello, Hello):
        await _refuse(
            websocket, svc, "not-hello", "the first message must be hello", CloseCode.POLICY
        )
        return
    if hello.protocol != PROTOCOL_VERSION:
        message = f"this server speaks protocol {PROTOCOL_VERSION}, not {hello.protocol}"
        await _refuse(websocket, svc, "protocol-version", message, CloseCode.PROTOCOL_VERSION)
        return
    try:
        room, claims = await svc.door.admit(
            code, hello.token, hello.role, address, time.monotonic()
        )
    except Refused as refused:
        await _refuse(websocket, svc, refused.code, refused.message, refused.close)
        return
    seat = await svc.store.seat(claims.device)
    page = Page(
        device=DeviceId(claims.device),
        role=claims.role,
        nickname=seat.nickname if seat else claims.role,
        outbox=Outbox(svc.settings.send_queue_size),
        weight=seat.weight if seat else 1.0,
    )
    room_var.set(room.code)
    device_var.set(page.device)
    ceiling = OffsetCeiling()
    if hello.t0 is not None:  # sent at page time t0, read at room time `read`: a bound
        ceiling.ping(hello.t0, room.clock.now() - (time.monotonic() - read_at))
    await _serve(websocket, svc, room, page, ceiling)


async def _serve(
    websocket: WebSocket, svc: Services, room: Room, page: Page, ceiling: OffsetCeiling
) -> None:
    writer = asyncio.create_task(
        _write(websocket, page, room.clock, svc), name=f"send-{page.device}"
    )
    await room.connect(page)
    bucket = Bucket.full(
        svc.settings.messages_per_s, 2 * svc.settings.messages_per_s, time.monotonic()
    )
    strikes = 0
    try:
        while not writer.done():
            frame = await websocket.receive()
            if frame["type"] == "websocket.disconnect":
                break
            received_at = room.clock.now()
            text: str | None = frame.get("text")
            data: str | bytes = text if text is not None else frame.get("bytes") or b""
            if not bucket.take(time.monotonic()):
                strikes += 1
                if strikes > STRIKES_BEFORE_CLOSE:
                    page.outbox.close(CloseCode.RATE_LIMITED, "too many messages")
                    break
                _error(
                    page, svc, "rate-limited", f"at most {svc.settings.messages_per_s:g} messages/s"
                )
                continue
            try:
                message = parse_client_message(data)
            except ProtocolError as exc:
                _error(page, svc, exc.code, exc.message)
                if exc.code == "too-large":
                    page.outbox.close(CloseCode.TOO_LARGE, "message too large")
                    break
                continue
            await _dispatch(page, room, svc, message, received_at, ceiling)
    except WebSocketDisconnect:
        pass
    finally:
        page.outbox.close(page.outbox.close_code or CloseCode.NORMAL, page.outbox.close_reason)
        await room.disconnect(page)
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            async with asyncio.timeout(2.0):
                await writer


async def _dispatch(
    page: Page,
    room: Room,
    svc: Services,
    message: object,
    received_at: float,
    ceiling: OffsetCeiling,
) -> None:
    match message:
        case Ping(id=ping_id, t0=t0):
            ceiling.ping(t0, received_at)
            page.outbox.put(Item("pong", "", (ping_id, t0, received_at)))
        case Vote(cast_t=cast_t) if page.role == "phone":
            cast_at = None if cast_t is None else ceiling.latest(cast_t)
            await room.put(Incoming(page.ref, message, received_at, cast_at))
        case Affect() if page.role == "phone":
            await room.put(Incoming(page.ref, message, received_at))
        case HostCommand() if page.role == "host":
            await room.put(Incoming(page.ref, message, received_at))
        case Playout() if page.role in ROLES:
            record_playout(svc, room.code, page, message, received_at)
        case Hello():
            _error(page, svc, "bad-message", "hello was already said")
        case _:
            kind = getattr(message, "type", "?")
            ref = message.id if isinstance(message, HostCommand) else None  # answers `host`
            _error(page, svc, "forbidden", f"a {page.role} page may not send {kind}", ref)


def record_playout(svc: Services, code: str, page: Page, message: Playout, now: float) -> None:
    """A page's playout report: into the room's summary and the metrics."""
    report = Report(page.device, page.role, message.offset_ms / 1000, message.frames, now)
    spread = svc.playout.room(code).record(report)
    svc.metrics.playout_offset.labels(page.role).observe(report.offset_s)
    if spread is not None:
        svc.metrics.playout_spread.labels(page.role).observe(spread)


def _error(page: Page, svc: Services, code: str, message: str, ref: int | None = None) -> None:
    svc.metrics.protocol_errors.labels(code).inc()
    page.outbox.put(Item("message", dump(Error(code=code, message=message, ref=ref))))


async def _write(websocket: WebSocket, page: Page, clock: RoomClock, svc: Services) -> None:
    """Drain the outbox onto the socket; close the socket when the outbox says so."""
    try:
        while (item := await page.outbox.get()) is not None:
            if item.kind == "pong" and item.pong is not None:
                ping_id, t0, t1 = item.pong
                text = dump(Pong(id=ping_id, t0=t0, t1=t1, t2=clock.now()))
            else:
                text = item.text
            await websocket.send_text(text)
        code, reason = page.outbox.close_code, page.outbox.close_reason
        if page.outbox.overflowed:
            svc.metrics.send_drops.inc()
            bye = Bye(reason="too slow to keep up; reconnect", reconnect=True)
            await websocket.send_text(dump(bye))
            code, reason = CloseCode.SLOW_CONSUMER, "slow consumer"
        if websocket.client_state is WebSocketState.CONNECTED:
            await websocket.close(code, reason)
    except (WebSocketDisconnect, RuntimeError, OSError):
        return  # the page went away first


__all__ = ["router"]
