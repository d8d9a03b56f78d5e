"""Where a room's sends go among the pages one process holds."""

from __future__ import annotations

from narrative.ids import DeviceId
from server.metrics import Metrics
from server.rooms.audience import EVERYONE, PHONES, SCREENS, Send, ToDevice, ToPage
from server.rooms.delivery import Delivery
from server.rooms.outbox import Item, Outbox
from server.rooms.page import Page

ITEM = Item("message", '{"type": "state"}')


def page(device: str, role: str = "phone") -> Page:
    return Page(DeviceId(device), role, device, Outbox(8))  # type: ignore[arg-type]


def got(p: Page) -> int:
    return len(p.outbox)


def test_a_page_counts_once_the_core_took_it_in_and_not_after_it_went():
    delivery = Delivery(Metrics())
    ada = page("ada")
    delivery.connected(ada)
    delivery.deliver([Send(EVERYONE, ITEM)])
    assert got(ada) == 0  # its welcome comes first, with the step that takes it in
    delivery.attached([ada.key])
    delivery.deliver([Send(EVERYONE, ITEM)])
    assert got(ada) == 1
    delivery.gone(ada)
    delivery.deliver([Send(EVERYONE, ITEM)])
    assert got(ada) == 1
    assert list(delivery) == []


def test_targets_resolve_by_page_device_and_role():
    delivery = Delivery(Metrics())
    tab1, tab2, other, screen, host = (
        page("ada"), page("ada"), page("bo"), page("s", "screen"), page("h", "host")
    )  # fmt: skip
    for p in (tab1, tab2, other, screen, host):
        delivery.connected(p)
    delivery.attached([p.key for p in (tab1, tab2, other, screen, host)])
    delivery.deliver([Send(ToDevice(DeviceId("ada")), ITEM)])
    assert [got(p) for p in (tab1, tab2, other, screen, host)] == [1, 1, 0, 0, 0]
    delivery.deliver([Send(ToPage(other.key), ITEM), Send(SCREENS, ITEM)])
    assert [got(p) for p in (tab1, tab2, other, screen, host)] == [1, 1, 1, 1, 1]
    delivery.deliver([Send(PHONES, ITEM)])
    assert [got(p) for p in (tab1, tab2, other, screen, host)] == [2, 2, 2, 1, 1]
