"""Where a room's sends go among the pages this process holds for it.

The room core addresses sends by page key, device or role (`server.rooms.audience`);
this index resolves them to outboxes. A page counts once the core has taken it in (its
``welcome`` is in the same step's sends), and stops counting as soon as its socket goes,
so nothing is queued for a page that will never read it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from narrative.ids import DeviceId
from server.metrics import Metrics
from server.rooms.audience import PageKey, Send, Target, ToDevice, ToPage, ToRoles
from server.rooms.page import Page
from server.tokens import Role


class Delivery:
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._waiting: dict[PageKey, Page] = {}  # connected, not yet taken in by the core
        self._pages: dict[PageKey, Page] = {}
        self._by_device: dict[DeviceId, set[Page]] = {}
        self._by_role: dict[Role, set[Page]] = {"phone": set(), "screen": set(), "host": set()}

    def __len__(self) -> int:
        return len(self._pages)

    def __iter__(self) -> Iterator[Page]:
        """Every page connected here, taken in by the core or not yet."""
        return iter((*self._pages.values(), *self._waiting.values()))

    def holds(self, device: DeviceId) -> bool:
        """Whether a page of ``device`` is taken in here."""
        return device in self._by_device

    def connected(self, page: Page) -> None:
        """A socket of this room opened here (the core has yet to take the page in)."""
        self._waiting[page.key] = page

    def gone(self, page: Page) -> None:
        """Its socket closed: nothing more is queued for it."""
        self._waiting.pop(page.key, None)
        self._drop(page.key)

    def attached(self, keys: Iterable[PageKey]) -> None:
        for key in keys:
            page = self._waiting.pop(key, None)
            if page is None:
                continue  # gone before the core took it in
            self._pages[key] = page
            self._by_device.setdefault(page.device, set()).add(page)
            self._by_role[page.role].add(page)
            self._metrics.sockets.labels(page.role).inc()

    def detached(self, keys: Iterable[PageKey]) -> None:
        for key in keys:
            self._drop(key)

    def deliver(self, sends: Iterable[Send]) -> None:
        for send in sends:
            for page in self._resolve(send.target):
                if not page.outbox.put(send.item) and page.outbox.overflowed:
                    self._metrics.send_drops.inc()

    def _resolve(self, target: Target) -> Iterable[Page]:
        match target:
            case ToPage(key=key):
                page = self._pages.get(key)
                return () if page is None else (page,)
            case ToDevice(device=device):
                return tuple(self._by_device.get(device, ()))
            case ToRoles(roles=roles):
                if len(roles) == 1:
                    (role,) = roles
                    return tuple(self._by_role[role])
                return tuple(p for role in roles for p in self._by_role[role])

    def _drop(self, key: PageKey) -> None:
        page = self._pages.pop(key, None)
        if page is None:
            return
        self._by_role[page.role].discard(page)
        pages = self._by_device.get(page.device)
        if pages is not None:
            pages.discard(page)
            if not pages:
                del self._by_device[page.device]
        self._metrics.sockets.labels(page.role).dec()


__all__ = ["Delivery"]
