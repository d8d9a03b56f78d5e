"""Who a room's message is for: one page, one device's pages, or every page of some roles.

The room core (`server.rooms.core`) addresses its sends with these targets and never
holds a socket; whoever holds the sockets resolves them against its own pages
(`server.rooms.delivery`). A target names pages by what the room knows of them (their
key, device and role), so the same send can be resolved by any process that holds some
of the room's pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NewType

from narrative.ids import DeviceId
from server.tokens import Role

PageKey = NewType("PageKey", str)  # one connected page (one socket), unique in the process
Kind = Literal["message", "tally", "presence", "mood", "pong"]


@dataclass(frozen=True, slots=True)
class Item:
    """One message for a page's outbox: its kind (tallies, presence and mood coalesce)
    and its JSON, serialised once however many pages it reaches."""

    kind: Kind
    text: str  # the JSON to send (empty for a pong, which is stamped as it leaves)
    pong: tuple[int, float, float] | None = None  # (id, t0, t1) of a pong still to stamp


@dataclass(frozen=True, slots=True)
class PageRef:
    """A connected page as its room sees it: which socket, whose seat, what it may do."""

    key: PageKey
    device: DeviceId
    role: Role
    nickname: str
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class ToPage:
    key: PageKey


@dataclass(frozen=True, slots=True)
class ToDevice:
    """Every page of one seat (a phone open in two tabs gets its ack in both)."""

    device: DeviceId


@dataclass(frozen=True, slots=True)
class ToRoles:
    roles: frozenset[Role]


EVERYONE = ToRoles(frozenset({"phone", "screen", "host"}))
PHONES = ToRoles(frozenset({"phone"}))
SCREENS = ToRoles(frozenset({"screen", "host"}))  # every page that is not a phone
HOSTS = ToRoles(frozenset({"host"}))
NOT_HOSTS = ToRoles(frozenset({"phone", "screen"}))

Target = ToPage | ToDevice | ToRoles


@dataclass(frozen=True, slots=True)
class Send:
    target: Target
    item: Item


__all__ = [
    "EVERYONE",
    "HOSTS",
    "NOT_HOSTS",
    "PHONES",
    "SCREENS",
    "Item",
    "Kind",
    "PageKey",
    "PageRef",
    "Send",
    "Target",
    "ToDevice",
    "ToPage",
    "ToRoles",
]
