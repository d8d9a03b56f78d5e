"""Signed tokens: who a socket is, in which room, in which role.

A token is an itsdangerous signature over ``{room, device, role}`` with the server's
secret: the server keeps no token table, a tampered token fails the signature, and a
token of another room fails the room check. A device that reconnects with its token
gets its seat back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

from itsdangerous import BadSignature, URLSafeSerializer

Role = Literal["phone", "screen", "host"]
ROLES: tuple[Role, ...] = ("phone", "screen", "host")


class TokenError(ValueError):
    code = "bad-token"


@dataclass(frozen=True, slots=True)
class Claims:
    room: str
    device: str
    role: Role


class Tokens:
    def __init__(self, secret: bytes) -> None:
        self._serializer = URLSafeSerializer(secret, salt="kinoroom.seat.v1")

    def issue(self, claims: Claims) -> str:
        return str(self._serializer.dumps([claims.room, claims.device, claims.role]))

    def verify(self, token: str, room: str) -> Claims:
        """The claims of a genuine token for ``room``.

        Raises:
            TokenError: tampered, malformed, or issued for another room.
        """
        try:
            data = self._serializer.loads(token)
        except BadSignature:
            raise TokenError("token signature does not match") from None
        if not (
            isinstance(data, list) and len(data) == 3 and all(isinstance(x, str) for x in data)
        ):
            raise TokenError("malformed token")
        token_room, device, role = data
        if role not in ROLES:
            raise TokenError("malformed token")
        if token_room != room:
            raise TokenError("token is for another room")
        return Claims(token_room, device, cast(Role, role))


__all__ = ["ROLES", "Claims", "Role", "TokenError", "Tokens"]
