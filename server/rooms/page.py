"""A connected page (phone, screen or host) as the process holding its socket sees it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from narrative.ids import DeviceId
from server.rooms.audience import PageKey, PageRef
from server.rooms.outbox import Outbox
from server.tokens import Role


def new_page_key() -> PageKey:
    """A key no other page of any process has (the room may span processes)."""
    return PageKey(secrets.token_hex(8))


@dataclass(eq=False, slots=True)
class Page:
    device: DeviceId
    role: Role
    nickname: str
    outbox: Outbox
    weight: float = 1.0
    key: PageKey = field(default_factory=new_page_key)

    @property
    def ref(self) -> PageRef:
        """What the room core knows of this page."""
        return PageRef(self.key, self.device, self.role, self.nickname, self.weight)


__all__ = ["Page", "new_page_key"]
