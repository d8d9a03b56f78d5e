"""Epoch fencing: an owner that lost its room's lease can commit nothing.

The owner of a room in a cluster holds a Redis lease with a fencing token (its epoch).
The database is the last line: every batch it writes carries a `Fence`, and a claim by a
newer owner makes every older epoch's batch fail whole, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio

import pytest

from server.persistence import Batch, EventRecord, Fence, StaleOwner, WriteRejected


def event(room: str, seq: int) -> EventRecord:
    return EventRecord(room, seq, "Tick", {"type": "Tick", "now": float(seq)}, float(seq))


@pytest.mark.asyncio
async def test_a_claim_fences_out_every_older_epoch(store, rooms):
    a, b = rooms
    await store.commit(Batch.of(event(a, 1), Fence(a, 1, "1-0")))
    claimed = await store.claim(a, 2)
    assert (claimed.owner_epoch, claimed.in_offset) == (2, "1-0")  # where the new owner reads on
    with pytest.raises(StaleOwner):
        await store.commit(Batch.of(event(a, 2), event(b, 1), Fence(a, 1, "2-0")))
    assert [e.seq for e in await store.events_after(a, 0)] == [1]  # nothing of it
    assert await store.events_after(b, 0) == []
    await store.commit(Batch.of(event(a, 2), Fence(a, 2, "3-0")))
    assert (await store.room(a)).in_offset == "3-0"


@pytest.mark.asyncio
async def test_a_claim_of_an_epoch_already_taken_is_refused(store, rooms):
    a, _ = rooms
    await store.claim(a, 5)
    for stale in (5, 4):
        with pytest.raises(StaleOwner):
            await store.claim(a, stale)
    with pytest.raises(WriteRejected):
        await store.claim("NOPE00", 1)


@pytest.mark.asyncio
async def test_racing_claims_leave_one_owner(store, rooms):
    a, _ = rooms
    outcomes = await asyncio.gather(
        *(store.claim(a, epoch) for epoch in (3, 7, 5)), return_exceptions=True
    )
    assert (await store.room(a)).owner_epoch == 7
    for epoch, outcome in zip((3, 7, 5), outcomes, strict=True):
        if isinstance(outcome, BaseException):
            assert isinstance(outcome, StaleOwner) and epoch < 7
    with pytest.raises(StaleOwner):
        await store.commit(Batch.of(event(a, 1), Fence(a, 5, "")))


@pytest.mark.asyncio
async def test_rooms_of_a_single_process_need_no_fence(store, rooms):
    a, _ = rooms
    await store.commit(Batch.of(event(a, 1)))
    assert (await store.room(a)).owner_epoch == 0
