"""FastAPI dependencies: the app's services, a room by code, the host behind a request."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Depends, Header, Request

from server.errors import ApiError
from server.roomcode import normalize
from server.rooms.room import Room
from server.services import Services
from server.tokens import Claims


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]


def room(code: str, svc: ServicesDep, request: Request) -> Room:
    """The room with this code.

    Wrong codes cost the caller's address a token of its failure budget: with the budget
    spent, every lookup from that address is refused for a while, so nobody can sweep the
    code space, while a cinema full of phones behind one NAT address can still join.
    """
    address = request.client.host if request.client else "?"
    now = time.monotonic()
    if svc.failures.blocked(address, now):
        raise ApiError(
            429, "rate-limited", "too many wrong room codes from this address; wait a minute"
        )
    normal = normalize(code)
    found = svc.rooms.get(normal) if normal else None
    if found is None:
        svc.failures.take(address, now)
        raise ApiError(404, "room-not-found", f"no room {code!r}")
    return found


RoomDep = Annotated[Room, Depends(room)]


def host(
    room: RoomDep, svc: ServicesDep, authorization: Annotated[str | None, Header()] = None
) -> Claims:
    """The host's claims from ``Authorization: Bearer <host token>``."""
    if not authorization or not authorization.startswith("Bearer "):
        raise ApiError(401, "bad-token", "this needs the host token (Authorization: Bearer ...)")
    claims = svc.tokens.verify(authorization.removeprefix("Bearer ").strip(), room.code)
    if claims.role != "host":
        raise ApiError(403, "forbidden", "only the host may do this")
    return claims


HostDep = Annotated[Claims, Depends(host)]

__all__ = ["HostDep", "RoomDep", "ServicesDep", "host", "room", "services"]
