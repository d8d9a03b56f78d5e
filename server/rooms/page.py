"""A connected page (phone, screen or host) as its room sees it."""

from __future__ import annotations

from dataclasses import dataclass

from narrative.ids import DeviceId
from server.rooms.outbox import Outbox
from server.tokens import Role


@dataclass(eq=False, slots=True)
class Page:
    device: DeviceId
    role: Role
    nickname: str
    outbox: Outbox
    weight: float = 1.0


__all__ = ["Page"]
