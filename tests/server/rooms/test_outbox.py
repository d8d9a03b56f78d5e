"""A socket's bounded outbox."""

from __future__ import annotations

import pytest

from server.rooms.outbox import Item, Outbox

pytestmark = pytest.mark.asyncio


async def test_tallies_coalesce_and_order_is_kept():
    box = Outbox(limit=8)
    box.put(Item("message", "a"))
    box.put(Item("tally", "t1"))
    box.put(Item("message", "b"))
    box.put(Item("tally", "t2"))
    assert [(await box.get()).text for _ in range(3)] == ["a", "b", "t2"]


async def test_overflow_stops_the_socket_instead_of_dropping_a_message():
    box = Outbox(limit=2)
    assert box.put(Item("message", "1"))
    assert box.put(Item("message", "2"))
    assert not box.put(Item("message", "decision"))
    assert box.overflowed
    assert await box.get() is None  # the writer stops and closes with slow-consumer


async def test_close_drains_what_is_queued_then_stops():
    box = Outbox(limit=4)
    box.put(Item("message", "bye"))
    box.close(1012, "restarting")
    assert (await box.get()).text == "bye"
    assert await box.get() is None
    assert (box.close_code, box.close_reason) == (1012, "restarting")
    assert not box.put(Item("message", "late"))


async def test_presence_coalesces_apart_from_tallies():
    box = Outbox(limit=8)
    box.put(Item("presence", "p1"))
    box.put(Item("tally", "t1"))
    box.put(Item("message", "decision"))
    box.put(Item("presence", "p2"))
    box.put(Item("tally", "t2"))
    assert [(await box.get()).text for _ in range(3)] == ["decision", "p2", "t2"]
