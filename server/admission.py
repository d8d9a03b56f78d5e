"""The one door into a room: a room code, a token, a role and the caller's address → the
room and the seat's claims, or a refusal with a stable code.

The WebSocket route (``hello``) and the HTTP dependencies (`server.deps`) both come in
here, so a room is found, a token checked and a failure counted the same way everywhere.

Wrong room codes and bad tokens cost the caller's address a token of its failure budget
(`KINOROOM_JOIN_ATTEMPTS_PER_MIN`): with the budget spent, every attempt from that address
is refused for a while, so nobody can sweep the code space or guess tokens, while a
cinema full of phones behind one NAT address, each with its genuine token, gets in.

A refusal is a `Refused` (an `ApiError`, so HTTP routes answer it with its status) that
also names the WebSocket close code, from one table, `REFUSALS`.
"""

from __future__ import annotations

from mobile_bridge.protocol import CloseCode
from server.budget import Budget
from server.errors import ApiError
from server.roomcode import normalize
from server.rooms.registry import Rooms
from server.rooms.room import Room
from server.tokens import Claims, Role, TokenError, Tokens

# code → (HTTP status, WebSocket close code)
REFUSALS: dict[str, tuple[int, CloseCode]] = {
    "rate-limited": (429, CloseCode.RATE_LIMITED),
    "room-not-found": (404, CloseCode.ROOM_NOT_FOUND),
    "bad-token": (401, CloseCode.BAD_TOKEN),
    "forbidden": (403, CloseCode.POLICY),
}


class Refused(ApiError):
    """The door stays shut; ``close`` is what a WebSocket is closed with."""

    def __init__(self, code: str, message: str) -> None:
        status, self.close = REFUSALS[code]
        super().__init__(status, code, message)


class Door:
    def __init__(self, rooms: Rooms, tokens: Tokens, failures: Budget) -> None:
        self._rooms = rooms
        self._tokens = tokens
        self.failures = failures  # each address's failure budget

    async def room(self, code: str, address: str, now: float) -> Room:
        """The running room with this code.

        Raises:
            Refused: ``rate-limited``, ``room-not-found``.
        """
        await self.knock(address, now)
        normal = normalize(code)
        found = await self._rooms.find(normal) if normal else None
        if found is None:
            await self.failures.take(address, now)
            raise Refused("room-not-found", f"no room {code!r}")
        return found

    async def seat(
        self,
        code: str,
        token: str | None,
        address: str,
        now: float,
        *,
        said: Role | None = None,
        needs: Role | None = None,
    ) -> Claims:
        """The seat behind ``token`` in room ``code`` (running or not: a report outlives
        its room).

        Args:
            said: the role the page says it has (``hello``): a token of another role is
                ``bad-token``, as a forged one is.
            needs: the role the action needs: a genuine token of another role is
                ``forbidden``.

        Raises:
            Refused: ``rate-limited``, ``bad-token``, ``forbidden``.
        """
        await self.knock(address, now)
        if not token:
            who = "the host token" if needs == "host" else "the page's token"
            raise Refused("bad-token", f"this needs {who} (Authorization: Bearer ...)")
        try:
            claims = self._tokens.verify(token, normalize(code) or code)
            if said is not None and claims.role != said:
                raise TokenError(f"this token is for a {claims.role}, not a {said}")
        except TokenError as exc:
            await self.failures.take(address, now)
            raise Refused("bad-token", str(exc)) from None
        if needs is not None and claims.role != needs:
            raise Refused("forbidden", f"only the {needs} may do this")
        return claims

    async def admit(
        self, code: str, token: str, role: Role, address: str, now: float
    ) -> tuple[Room, Claims]:
        """A page's ``hello``: the running room, and the seat of the role it says it has.

        Raises:
            Refused: ``rate-limited``, ``room-not-found``, ``bad-token``.
        """
        room = await self.room(code, address, now)
        return room, await self.seat(room.code, token, address, now, said=role)

    async def knock(self, address: str, now: float) -> None:
        """Refuse an address that spent its failure budget, before it says anything.

        Raises:
            Refused: ``rate-limited``.
        """
        if await self.failures.blocked(address, now):
            raise Refused("rate-limited", "too many failed attempts from this address; wait")


__all__ = ["REFUSALS", "Door", "Refused"]
