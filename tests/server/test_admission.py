"""The one door: codes, tokens, roles and the failed-join budget, the same for every route."""

from __future__ import annotations

import asyncio

import pytest

from mobile_bridge.protocol import CloseCode
from server.admission import Door, Refused
from server.budget import LocalBudget
from server.ratelimit import KeyedLimiter
from server.tokens import Claims, Tokens

TOKENS = Tokens(b"k" * 32)


class Room:
    code = "KX7P2M"


class Rooms:
    async def find(self, code: str):
        return Room() if code == "KX7P2M" else None


def door(budget: int = 3) -> Door:
    limiter = KeyedLimiter(rate=budget / 60, burst=budget)
    return Door(Rooms(), TOKENS, LocalBudget(limiter))  # type: ignore[arg-type]


def refusal(call) -> tuple[str, int, int]:
    async def attempt():
        result = call()
        if asyncio.iscoroutine(result):
            await result

    with pytest.raises(Refused) as info:
        asyncio.run(attempt())
    return info.value.code, info.value.status, info.value.close


def test_a_genuine_token_of_the_role_said_gets_in():
    token = TOKENS.issue(Claims("KX7P2M", "p-1", "phone"))
    room, claims = asyncio.run(door().admit("kx7p2m", token, "phone", "10.0.0.1", 0.0))
    assert room.code == "KX7P2M" and claims.device == "p-1"


def test_each_refusal_has_one_code_one_status_and_one_close_code():
    d = door()
    phone = TOKENS.issue(Claims("KX7P2M", "p-1", "phone"))
    assert refusal(lambda: d.room("NOPE42", "a", 0.0)) == (
        "room-not-found", 404, CloseCode.ROOM_NOT_FOUND
    )  # fmt: skip
    assert refusal(lambda: d.seat("KX7P2M", "forged", "b", 0.0)) == (
        "bad-token", 401, CloseCode.BAD_TOKEN
    )  # fmt: skip
    assert refusal(lambda: d.admit("KX7P2M", phone, "host", "c", 0.0))[0] == "bad-token"
    assert refusal(lambda: d.seat("KX7P2M", phone, "d", 0.0, needs="host")) == (
        "forbidden", 403, CloseCode.POLICY
    )  # fmt: skip
    assert refusal(lambda: d.seat("KX7P2M", None, "e", 0.0))[:2] == ("bad-token", 401)
    other_room = TOKENS.issue(Claims("ZZZZZZ", "p-2", "phone"))
    assert refusal(lambda: d.seat("KX7P2M", other_room, "f", 0.0))[0] == "bad-token"


def test_wrong_codes_and_bad_tokens_spend_one_budget_per_address():
    d = door(budget=3)
    assert refusal(lambda: d.room("NOPE42", "1.2.3.4", 0.0))[0] == "room-not-found"
    assert refusal(lambda: d.seat("KX7P2M", "forged", "1.2.3.4", 0.0))[0] == "bad-token"
    phone = TOKENS.issue(Claims("KX7P2M", "p-1", "phone"))
    assert refusal(lambda: d.seat("KX7P2M", phone, "1.2.3.4", 0.0, needs="host"))[0] == (
        "forbidden"
    )  # a genuine token costs nothing
    assert refusal(lambda: d.room("NOPE43", "1.2.3.4", 0.0))[0] == "room-not-found"
    assert refusal(lambda: d.admit("KX7P2M", phone, "phone", "1.2.3.4", 1.0)) == (
        "rate-limited", 429, CloseCode.RATE_LIMITED
    )  # fmt: skip
    room, _ = asyncio.run(d.admit("KX7P2M", phone, "phone", "5.6.7.8", 1.0))  # another address
    assert room.code == "KX7P2M"
    asyncio.run(d.admit("KX7P2M", phone, "phone", "1.2.3.4", 61.0))  # the budget refills
