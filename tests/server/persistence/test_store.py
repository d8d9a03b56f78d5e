"""The store as the Room actors use it: rooms, seats, the group commit, recovery reads."""

from __future__ import annotations

import asyncio
import math
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from server.persistence import (
    ArmIncrement,
    AssetRecord,
    Batch,
    DecisionRecord,
    EventRecord,
    MoodRecord,
    RoomExists,
    RoomRecord,
    RoomStatus,
    SeatRecord,
    SnapshotRecord,
    Store,
    WriteRejected,
)

ROOT = Path(__file__).resolve().parents[3]

DIGEST = "0123456789abcdef"  # the conftest's `story`


def event(room, seq, at=None, **payload):
    at = float(seq) if at is None else at
    return EventRecord(room, seq, "vote", {"type": "vote", "seq": seq, **payload}, at)


# -- stories ----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_story_is_saved_once_per_digest(store):
    first = await store.save_story(title="A", digest=DIGEST, source="a: 1", fmt="yaml")
    again = await store.save_story(title="A again", digest=DIGEST, source="a: 1", fmt="yaml")
    other = await store.save_story(title="B", digest="fedcba9876543210", source="{}", fmt="json")
    assert again == first
    assert other.id != first.id
    assert await store.stories() == [first, other]
    assert await store.story(first.id) == first
    assert await store.story(other.id + 100) is None
    assert first.created_at.tzinfo is not None
    assert first.created_at.utcoffset() == timedelta(0)


@pytest.mark.asyncio
async def test_a_story_in_an_unknown_format_is_refused(store):
    with pytest.raises(WriteRejected) as caught:
        await store.save_story(title="A", digest=DIGEST, source="", fmt="toml")
    assert caught.value.code == "write-rejected"
    assert await store.stories() == []


# -- rooms and seats --------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_room_comes_back_as_it_was_created(store, new_room):
    room = new_room(
        "K7M2PQ",
        policy={"name": "explore", "history": {"hall": {"door": [2, 1.5]}}, "c": 0.7},
        mode="big-screen",
        show_tally=True,
        created_at=datetime(2026, 5, 1, 20, 0, 0, 123456, tzinfo=UTC),
    )
    await store.create_room(room)
    assert await store.room("K7M2PQ") == room
    assert await store.room("NOPE00") is None


@pytest.mark.asyncio
async def test_a_taken_room_code_is_refused_and_the_first_room_is_kept(store, new_room):
    first = new_room("ABCDEF", seed=1)
    await store.create_room(first)
    with pytest.raises(RoomExists) as caught:
        await store.create_room(new_room("ABCDEF", seed=2))
    assert caught.value.room == "ABCDEF"
    assert caught.value.code == "room-exists"
    assert await store.room("ABCDEF") == first


@pytest.mark.asyncio
async def test_a_room_of_an_unknown_story_is_refused(store, new_room):
    with pytest.raises(WriteRejected):
        await store.create_room(new_room("ABCDEF", story_id=999))


@pytest.mark.asyncio
async def test_seats_are_found_by_device_and_by_room(store, rooms):
    a, b = rooms
    joined = datetime(2026, 5, 1, 20, 0, tzinfo=UTC)
    host = SeatRecord("dev-host", a, "Host", "host", 1.0, joined)
    ana = SeatRecord("dev-ana", a, "Ana 🎬", "phone", 2.5, joined + timedelta(seconds=1))
    screen = SeatRecord("dev-screen", b, "Screen", "screen", 0.0, joined)
    for seat in (host, ana, screen):
        await store.add_seat(seat)
    assert await store.seat("dev-ana") == ana
    assert await store.seat("dev-nobody") is None
    assert await store.seats(a) == [host, ana]
    assert await store.seats(b) == [screen]
    with pytest.raises(WriteRejected):
        await store.add_seat(SeatRecord("dev-ana", b, "Ana", "phone"))
    with pytest.raises(WriteRejected):
        await store.add_seat(SeatRecord("dev-x", "NOROOM", "X", "phone"))


@pytest.mark.asyncio
async def test_unfinished_rooms_are_those_not_ended(store, new_room):
    for code, status in [("WAIT00", "waiting"), ("PLAY00", "playing"), ("DONE00", "playing")]:
        await store.create_room(new_room(code, status=status))
    ended_at = datetime(2026, 5, 1, 22, 0, tzinfo=UTC)
    await store.commit(Batch.of(RoomStatus("DONE00", "ended", ended_at)))
    assert {r.code for r in await store.unfinished_rooms()} == {"WAIT00", "PLAY00"}
    done = await store.room("DONE00")
    assert (done.status, done.ended_at) == ("ended", ended_at)


@pytest.mark.asyncio
async def test_an_ended_room_without_a_time_gets_the_commit_time(database):
    moment = datetime(2026, 5, 1, 23, 30, tzinfo=UTC)
    store = await database.open(wall_clock=lambda: moment)
    try:
        await store.save_story(title="A", digest=DIGEST, source="", fmt="yaml")
        story = (await store.stories())[0]
        room = RoomRecord("ABCDEF", story.id, {}, "phones-play", 1, "playing", 0.0, False)
        await store.create_room(room)
        await store.commit(Batch.of(RoomStatus("ABCDEF", "ended")))
        assert (await store.room("ABCDEF")).ended_at == moment
    finally:
        await store.close()


# -- the group commit -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_batch_for_several_rooms_is_written_whole(store, rooms):
    a, b = rooms
    decision = DecisionRecord(
        a, 3, "hall", "door", "garden", "majority", "most votes", (("door", 2.0), ("stairs", 1.0)),
        3, 4, 12.5,
    )  # fmt: skip
    mood = MoodRecord(b, "hall", 0.25, -0.5, 0.75, 3, 40, 10.0)
    batch = Batch.of(
        event(a, 1), event(a, 2), event(a, 3), event(b, 1),
        SnapshotRecord(a, 3, {"scene": "garden"}), decision, mood,
        RoomStatus(a, "playing"),
        ArmIncrement(DIGEST, "hall", "door", 1, 0.5),
    )  # fmt: skip
    await store.commit(batch)
    assert [e.seq for e in await store.events_after(a, 0)] == [1, 2, 3]
    assert await store.events_after(b, 0) == [event(b, 1)]
    assert await store.latest_snapshot(a) == SnapshotRecord(a, 3, {"scene": "garden"})
    assert await store.decisions(a) == [decision]
    assert await store.scene_moods(b) == [mood]
    assert (await store.room(a)).status == "playing"
    assert await store.arm_history(DIGEST) == {"hall": {"door": (1, 0.5)}}


@pytest.mark.asyncio
async def test_a_batch_with_a_duplicate_event_seq_writes_nothing(store, rooms):
    a, b = rooms
    await store.commit(Batch.of(event(a, 1)))
    doomed = Batch.of(
        event(b, 1), event(a, 2), event(a, 1, choice="late"),  # a/1 is already in the log
        SnapshotRecord(b, 1, {}), MoodRecord(b, "hall", 0, 0, 0, 1, 1, 1.0),
        DecisionRecord(b, 1, "c", "o", "g", "p", "r", (), 0, 0, 1.0),
        RoomStatus(b, "ended"), ArmIncrement(DIGEST, "hall", "door", 1, 1.0),
    )  # fmt: skip
    with pytest.raises(WriteRejected):
        await store.commit(doomed)
    assert await store.events_after(a, 0) == [event(a, 1)]
    assert await store.events_after(b, 0) == []
    assert await store.latest_snapshot(b) is None
    assert await store.scene_moods(b) == []
    assert await store.decisions(b) == []
    assert (await store.room(b)).status == "waiting"
    assert await store.arm_history(DIGEST) == {}


@pytest.mark.asyncio
async def test_a_duplicate_seq_inside_one_batch_is_refused(store, rooms):
    a, _ = rooms
    with pytest.raises(WriteRejected):
        await store.commit(Batch.of(event(a, 1), event(a, 1)))
    assert await store.last_seq(a) == 0


@pytest.mark.asyncio
async def test_a_batch_for_an_unknown_room_writes_nothing(store, rooms):
    a, _ = rooms
    with pytest.raises(WriteRejected):
        await store.commit(Batch.of(event(a, 1), event("NOROOM", 1)))
    with pytest.raises(WriteRejected) as caught:
        await store.commit(Batch.of(event(a, 1), RoomStatus("NOROOM", "ended")))
    assert caught.value.room == "NOROOM"
    assert await store.last_seq(a) == 0


@pytest.mark.asyncio
async def test_an_empty_batch_is_nothing_to_do(store):
    await store.commit(Batch())


@pytest.mark.asyncio
async def test_two_thousand_events_commit_in_one_batch(store, rooms):
    a, _ = rooms
    await store.commit(
        Batch(events=tuple(event(a, seq, device=f"d{seq}") for seq in range(1, 2001)))
    )
    assert await store.last_seq(a) == 2000
    tail = await store.events_after(a, 1990)
    assert [e.seq for e in tail] == list(range(1991, 2001))
    assert tail[-1].payload == {"type": "vote", "seq": 2000, "device": "d2000"}


@pytest.mark.asyncio
async def test_concurrent_commits_all_land(store, rooms):
    a, b = rooms
    batches = [Batch.of(event(room, seq)) for seq in range(1, 11) for room in (a, b)]
    await asyncio.gather(*(store.commit(batch) for batch in batches))
    assert await store.last_seq(a) == await store.last_seq(b) == 10


# -- reading a room back ----------------------------------------------------------------


@pytest.mark.asyncio
async def test_events_after_a_seq_come_in_seq_order(store, rooms):
    a, b = rooms
    await store.commit(Batch.of(event(a, 3), event(a, 1), event(b, 2)))
    await store.commit(Batch.of(event(a, 2), event(a, 10)))
    assert [e.seq for e in await store.events_after(a, 0)] == [1, 2, 3, 10]
    assert [e.seq for e in await store.events_after(a, 2)] == [3, 10]
    assert await store.events_after(a, 10) == []
    assert await store.last_seq(a) == 10
    assert await store.last_seq(b) == 2
    assert await store.last_seq("NOROOM") == 0


@pytest.mark.asyncio
async def test_the_latest_snapshot_is_the_one_with_the_highest_seq(store, rooms):
    a, b = rooms
    assert await store.latest_snapshot(a) is None
    await store.commit(Batch.of(SnapshotRecord(a, 20, {"n": 20}), SnapshotRecord(a, 5, {"n": 5})))
    await store.commit(Batch.of(SnapshotRecord(a, 12, {"n": 12}), SnapshotRecord(b, 30, {})))
    assert await store.latest_snapshot(a) == SnapshotRecord(a, 20, {"n": 20})
    with pytest.raises(WriteRejected):
        await store.commit(Batch.of(SnapshotRecord(a, 20, {"n": "again"})))


@pytest.mark.asyncio
async def test_json_comes_back_exactly_as_it_was_written(store, rooms):
    a, _ = rooms
    payload = {
        "zeta": 1 / 3, "alpha": 0.1, "tiny": 1e-7, "huge": 1e20, "max": 1.7976931348623157e308,
        "neg": -2.5, "whole": 3.0, "int": 2**53 + 1, "none": None, "flag": True,
        "text": 'quote " backslash \\ ünï 🎬', "list": [1, 2.0, [3, {"x": 0.3}]],
        "nested": {"b": {"a": [], "c": {}}, "a": 1},
    }  # fmt: skip
    await store.commit(Batch.of(EventRecord(a, 1, "tick", payload, 0.1 + 0.2),
                                SnapshotRecord(a, 1, payload)))  # fmt: skip
    [back] = await store.events_after(a, 0)
    snapshot = await store.latest_snapshot(a)
    for value in (back.payload, snapshot.data):
        assert value == payload
        assert list(value) == list(payload)  # key order too: restore may iterate it
        assert list(value["nested"]) == ["b", "a"]
        assert type(value["huge"]) is float and type(value["whole"]) is float
        assert type(value["int"]) is int
    assert back.at == 0.1 + 0.2
    assert math.isclose(back.payload["zeta"], 1 / 3, rel_tol=0, abs_tol=0)


@pytest.mark.asyncio
async def test_decisions_and_moods_read_back_in_order(store, rooms):
    a, _ = rooms
    first = DecisionRecord(
        a, 4, "hall", "door", "garden", "majority", "r1", (("door", 1.0),), 1, 1, 4.0
    )
    second = DecisionRecord(a, 9, "garden", "left", "end", "explore", "r2", (), 0, 2, 9.0)
    moods = [MoodRecord(a, f"s{i}", 0.1 * i, 0.0, 0.5, i, i * 10, float(i)) for i in range(3)]
    await store.commit(Batch(decisions=(second,), moods=tuple(moods[:2])))
    await store.commit(Batch(decisions=(first,), moods=(moods[2],)))
    assert await store.decisions(a) == [first, second]
    assert await store.scene_moods(a) == moods


@pytest.mark.asyncio
async def test_a_jobs_outcome_is_kept_once_when_an_adopting_owner_records_it_again(store, rooms):
    a, _ = rooms

    def outcome(job: str, status: str) -> AssetRecord:
        return AssetRecord(job, a, "bridge", status, None, "montage", "", "p", 7, 3.0, {},
                           None, "w", None, 1.0)  # fmt: skip

    first = outcome("j1", "late")
    await store.commit(Batch(assets=(first,)))
    # The room's next owner adopted the job and judged its result again: the batch still
    # commits (its events with it), and the first outcome stays.
    await store.commit(
        Batch(events=(event(a, 1),), assets=(outcome("j1", "done"), outcome("j2", "done")))
    )
    kept = await store.generated_assets(a)
    assert [(r.job_id, r.status) for r in kept] == [("j1", "late"), ("j2", "done")]
    assert len(await store.events_after(a, 0)) == 1


@pytest.mark.asyncio
async def test_arm_stats_accumulate_across_commits(store, rooms):
    other = "fedcba9876543210"
    await store.save_story(title="B", digest=other, source="", fmt="yaml")
    await store.commit(Batch.of(
        ArmIncrement(DIGEST, "hall", "door", 1, 0.5),
        ArmIncrement(DIGEST, "hall", "door", 1, 0.25),  # twice in one batch
        ArmIncrement(DIGEST, "hall", "stairs", 1, 1.0),
        ArmIncrement(other, "hall", "door", 7, 3.0),
    ))  # fmt: skip
    await store.commit(Batch.of(ArmIncrement(DIGEST, "hall", "door", 2, 1.0),
                                ArmIncrement(DIGEST, "garden", "left", 1, 0.0)))  # fmt: skip
    assert await store.arm_history(DIGEST) == {
        "garden": {"left": (1, 0.0)},
        "hall": {"door": (4, 1.75), "stairs": (1, 1.0)},
    }
    assert await store.arm_history(other) == {"hall": {"door": (7, 3.0)}}
    assert await store.arm_history("0000000000000000") == {}
    with pytest.raises(WriteRejected):  # a story never saved
        await store.commit(Batch.of(ArmIncrement("0000000000000000", "a", "b", 1, 0.0)))


# -- SQLite durability ------------------------------------------------------------------

KILLED_WRITER = """
import asyncio, os, signal, sys
from datetime import UTC, datetime
from server.persistence import Batch, EventRecord, RoomRecord, Store

async def main():
    store = await Store.open(sys.argv[1])
    story = await store.save_story(title="A", digest="0123456789abcdef", source="", fmt="yaml")
    room = RoomRecord("ABCDEF", story.id, {}, "phones-play", 1, "playing", 0.0, False)
    await store.create_room(room)
    await store.commit(Batch(events=tuple(
        EventRecord("ABCDEF", seq, "vote", {"seq": seq}, float(seq)) for seq in range(1, 101)
    )))
    print("acked", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # no close, no checkpoint, no atexit

asyncio.run(main())
"""


@pytest.mark.asyncio
async def test_a_commit_survives_the_process_being_killed_right_after(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'killed.db'}"
    writer = await asyncio.create_subprocess_exec(
        sys.executable, "-c", KILLED_WRITER, url, cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(writer.communicate(), timeout=60)
    assert writer.returncode == -signal.SIGKILL
    assert out == b"acked\n"
    store = await Store.open(url)
    try:
        assert await store.last_seq("ABCDEF") == 100
        async with store.engine.connect() as connection:
            settings = {
                name: (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
        assert settings == {"journal_mode": "wal", "synchronous": 1, "foreign_keys": 1,
                            "busy_timeout": 5000}  # fmt: skip
    finally:
        await store.close()
