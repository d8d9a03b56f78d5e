"""Group commit: batches pile up while a transaction is in flight and go together."""

from __future__ import annotations

import asyncio

import pytest

from server.metrics import Metrics
from server.persistence import Batch, EventRecord
from server.rooms.committer import Committer

pytestmark = pytest.mark.asyncio


class FakeStore:
    def __init__(self) -> None:
        self.commits: list[Batch] = []
        self.gate = asyncio.Event()

    async def commit(self, batch: Batch) -> None:
        await self.gate.wait()
        if any(e.kind == "bad" for e in batch.events):
            raise ValueError("duplicate seq")
        self.commits.append(batch)


def event(room: str, seq: int, kind: str = "VoteCast") -> Batch:
    return Batch.of(EventRecord(room, seq, kind, {}, 0.0))


async def test_batches_waiting_together_commit_in_one_transaction():
    store = FakeStore()
    committer = Committer(store, Metrics())  # type: ignore[arg-type]
    runner = asyncio.create_task(committer.run())
    first = asyncio.create_task(committer.commit(event("A", 1)))
    await asyncio.sleep(0)  # the committer takes the first batch and waits on the store
    rest = [asyncio.create_task(committer.commit(event(room, 1))) for room in "BCD"]
    store.gate.set()
    await asyncio.gather(first, *rest)
    assert [len(b.events) for b in store.commits] == [1, 3]
    runner.cancel()


async def test_one_bad_batch_fails_alone():
    store = FakeStore()
    store.gate.set()
    committer = Committer(store, Metrics())  # type: ignore[arg-type]
    runner = asyncio.create_task(committer.run())
    good = asyncio.create_task(committer.commit(event("A", 1)))
    bad = asyncio.create_task(committer.commit(event("B", 1, "bad")))
    other = asyncio.create_task(committer.commit(event("C", 1)))
    results = await asyncio.gather(good, bad, other, return_exceptions=True)
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], ValueError)
    assert sorted(b.events[0].room_code for b in store.commits) == ["A", "C"]
    runner.cancel()
