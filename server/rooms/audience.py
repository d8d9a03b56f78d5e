"""Who a room's message is for: one page, one device's pages, or every page of some roles.

The room core (`server.rooms.core`) addresses its sends with these targets and never
holds a socket; whoever holds the sockets resolves them against its own pages
(`server.rooms.delivery`). A target names pages by what the room knows of them (their
key, device and role), so the same send can be resolved by any process that holds some
of the room's pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NewType

from narrative.ids import DeviceId
from server.rooms.outbox import Item
from server.tokens import Role

PageKey = NewType("PageKey", str)  # one connected page (one socket), unique in the process


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
    "PageKey",
    "PageRef",
    "Send",
    "Target",
    "ToDevice",
    "ToPage",
    "ToRoles",
]
