"""FastAPI dependencies: the app's services, and the room and seat behind a request.

Both come through the one door (`server.admission.Door`), as a WebSocket's ``hello`` does.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Depends, Header, Request

from server.rooms.room import Room
from server.services import Services
from server.tokens import Claims


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]
Authorization = Annotated[str | None, Header()]


def address(request: Request) -> str:
    """The caller's address, as the failed-join budget counts it."""
    return request.client.host if request.client else "?"


def bearer(authorization: str | None) -> str | None:
    if not authorization or not authorization.startswith("Bearer "):
        return None
    return authorization.removeprefix("Bearer ").strip()


async def room(code: str, svc: ServicesDep, request: Request) -> Room:
    """The running room with this code (`Door.room`)."""
    return await svc.door.room(code, address(request), time.monotonic())


RoomDep = Annotated[Room, Depends(room)]


async def page(
    room: RoomDep, svc: ServicesDep, request: Request, authorization: Authorization = None
) -> Claims:
    """Any seat of the room, from ``Authorization: Bearer <page token>``."""
    now = time.monotonic()
    return await svc.door.seat(room.code, bearer(authorization), address(request), now)


async def host(
    room: RoomDep, svc: ServicesDep, request: Request, authorization: Authorization = None
) -> Claims:
    """The host's seat, from ``Authorization: Bearer <host token>``."""
    now, token = time.monotonic(), bearer(authorization)
    return await svc.door.seat(room.code, token, address(request), now, needs="host")


PageDep = Annotated[Claims, Depends(page)]
HostDep = Annotated[Claims, Depends(host)]

__all__ = [
    "HostDep",
    "PageDep",
    "RoomDep",
    "ServicesDep",
    "address",
    "bearer",
    "host",
    "page",
    "room",
    "services",
]
