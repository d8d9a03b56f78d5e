"""The room core driven with plain values: no sockets, no event loop, no clock.

Each test feeds `RoomCore.step` items and a room-clock time and reads what it returns:
the records to commit and the messages to send, to whom (as websockets'
``tests/test_protocol.py`` drives its sans-I/O ``Protocol``).
"""

from __future__ import annotations

import json

import pytest

from mobile_bridge.protocol import Affect, HostCommand, Vote
from narrative.events import AffectSample, Decide, FillIn, PlayScene, event_from_json
from narrative.ids import DeviceId, SceneId
from narrative.policies import policy_from_spec
from narrative.screening import Phase, Screening
from narrative.validate import load_story
from server.persistence import (
    ArmIncrement,
    AssetRecord,
    DecisionRecord,
    EventRecord,
    MoodRecord,
    RoomStatus,
    SnapshotRecord,
)
from server.rooms.audience import EVERYONE, HOSTS, NOT_HOSTS, PageKey, PageRef, ToDevice, ToPage
from server.rooms.core import CoreSettings, RoomCore
from server.rooms.effects import decision_of
from server.rooms.inbox import Attach, Detach, Incoming, Judged, Sensed
from tests.narrative.screening_story import STORY, STORY_MODEL

CODE = "ABCDEF"


def core(policy: str = "plurality", *, grace: float = 0.0, **kwargs) -> RoomCore:
    screening = Screening(STORY_MODEL, policy_from_spec({"name": policy}), 7, grace)
    return RoomCore(
        code=CODE, mode="phones-play", story_digest=STORY_MODEL.digest(),
        screening=screening, settings=CoreSettings(snapshot_every=10, tally_interval_s=0.25),
        **kwargs,
    )  # fmt: skip


def page(name: str, role: str = "phone", device: str | None = None) -> PageRef:
    return PageRef(PageKey(f"k-{name}"), DeviceId(device or name), role, name)  # type: ignore[arg-type]


def vote(p: PageRef, option: str, at: float, seq: int = 1, cast_at: float | None = None):
    return Incoming(p, Vote(choice="hall", seq=seq, option=option), at, cast_at)


def host(p: PageRef, action: str, at: float, **fields) -> Incoming:
    return Incoming(p, HostCommand(action=action, id=1, **fields), at)  # type: ignore[arg-type]


def messages(step, target=None) -> list[dict]:
    return [json.loads(s.item.text) for s in step.sends if target is None or s.target == target]


def types(step, target=None) -> list[str]:
    return [m["type"] for m in messages(step, target)]


def parts(step, kind) -> list:
    return [p for p in step.parts if isinstance(p, kind)]


def kinds(step) -> list[str]:
    """The events a step logged, but the room's mood readings (presence moves them)."""
    return [e.kind for e in parts(step, EventRecord) if e.kind != "RoomMood"]


HOST, ADA, BO = page("host", "host"), page("ada"), page("bo")


def started(policy: str = "plurality", **kwargs) -> RoomCore:
    room = core(policy, **kwargs)
    room.step([Attach(HOST), Attach(ADA), Attach(BO)], 0.0)
    room.step([host(HOST, "start", 0.0)], 0.0)
    room.step([], 5.0)  # the hall's vote opens
    return room


def test_a_page_is_welcomed_and_a_phone_joins_the_screening():
    room = core()
    step = room.step([Attach(ADA)], 1.0)
    assert step.attached == [ADA.key]
    (welcome,) = messages(step, ToPage(ADA.key))
    assert (welcome["type"], welcome["device"], welcome["now"]) == ("welcome", "ada", 1.0)
    join = parts(step, EventRecord)[0]
    assert (join.seq, join.kind, join.at) == (1, "Join", 1.0)
    assert room.summary().phones == 1


def test_a_second_tab_of_the_same_phone_is_one_viewer():
    room = core()
    room.step([Attach(ADA)], 1.0)
    again = PageRef(PageKey("k-ada-2"), ADA.device, "phone", "ada")
    step = room.step([Attach(again)], 2.0)
    assert kinds(step) == []  # no second Join
    step = room.step([Detach(ADA)], 3.0)
    assert kinds(step) == []  # still here in the other tab
    assert room.summary().phones == 1
    assert kinds(room.step([Detach(again)], 4.0))[0] == "Leave"
    assert room.summary().phones == 0


def test_a_vote_is_logged_then_acked_to_every_page_of_its_phone():
    room = started()
    step = room.step([vote(ADA, "door", 6.0)], 6.0)
    (cast,) = parts(step, EventRecord)
    assert cast.kind == "VoteCast" and cast.payload["ballot"] == {"option": "door"}
    assert messages(step, ToDevice(ADA.device)) == [
        {"type": "vote_ack", "choice": "hall", "seq": 1, "replaced": False}
    ]
    assert room.roster().voted == {ADA.device}


def test_the_decision_is_recorded_with_its_event_and_broadcast():
    room = started()
    room.step([vote(ADA, "door", 6.0), vote(BO, "door", 6.0)], 6.0)
    step = room.step([], 15.0)
    (decision,) = parts(step, DecisionRecord)
    (tick,) = parts(step, EventRecord)
    assert (decision.seq, decision.option, decision.voted, decision.present) == (
        tick.seq, "door", 2, 2
    )  # fmt: skip
    assert decision_of(decision) == next(c for c in step.commands if isinstance(c, Decide))
    assert "decision" in types(step, EVERYONE)


def test_a_page_that_arrives_later_is_given_the_last_decision():
    room = started()
    room.step([], 15.0)
    late = page("cy")
    step = room.step([Attach(late)], 16.0)
    assert types(step, ToPage(late.key)) == ["welcome", "decision"]


def test_the_first_scene_marks_the_room_playing_and_the_end_snapshots_it():
    room = core()
    room.step([Attach(HOST)], 0.0)
    step = room.step([host(HOST, "start", 0.0)], 0.0)
    assert RoomStatus(CODE, "playing") in step.parts
    assert types(step, ToPage(HOST.key)) == ["host_ack"]
    step = room.step([host(HOST, "end", 2.0)], 2.0)
    assert RoomStatus(CODE, "ended") in step.parts
    assert parts(step, SnapshotRecord) and parts(step, MoodRecord)
    (for_host,) = messages(step, HOSTS)
    (for_others,) = messages(step, NOT_HOSTS)
    assert for_host["report"] == f"/rooms/{CODE}/report" and for_others["report"] is None
    assert room.summary().ended


def test_a_host_command_the_screening_refuses_is_an_error_to_that_host():
    room = core()
    room.step([Attach(HOST)], 0.0)
    step = room.step([host(HOST, "skip", 1.0)], 1.0)
    assert messages(step, ToPage(HOST.key)) == [
        {"type": "error", "code": "host-rejected", "message": "Skip: not-started", "ref": 1}
    ]
    step = room.step([host(HOST, "force", 1.0)], 1.0)  # no option
    assert [m["code"] for m in messages(step, ToPage(HOST.key))] == ["bad-message"]


def test_show_tally_widens_who_gets_the_live_tally():
    room = started()
    room.step([vote(ADA, "door", 6.0)], 6.0)
    (tally,) = [s for s in room.live(6.0) if s.item.kind == "tally"]
    assert tally.target != EVERYONE
    step = room.step([host(HOST, "show_tally", 7.0, show=True)], 7.0)
    assert types(step, ToPage(HOST.key)) == ["host_ack"]
    room.step([vote(BO, "stairs", 7.0)], 7.0)
    (tally,) = [s for s in room.live(7.0) if s.item.kind == "tally"]
    assert tally.target == EVERYONE


def test_the_live_tally_is_the_policys_count():
    """Borda: a pick is first place, worth m-1 points on the screen as in the decision."""
    room = started("borda")
    ranking = Incoming(BO, Vote(choice="hall", seq=1, ranking=["stairs", "door"]), 6.0)
    room.step([vote(ADA, "door", 6.0), ranking], 6.0)
    (tally,) = [json.loads(s.item.text) for s in room.live(6.0) if s.item.kind == "tally"]
    decision = next(c for c in room.step([], 15.0).commands if isinstance(c, Decide))
    assert tally["scores"] == {str(o): score for o, score in decision.tally}


def test_a_vote_cast_before_the_close_and_carried_late_counts_within_the_grace():
    room = started(grace=0.5)
    step = room.step([vote(ADA, "door", 15.3, cast_at=14.9)], 15.3)
    assert types(step, ToDevice(ADA.device)) == ["vote_ack"]
    (cast,) = parts(step, EventRecord)
    assert cast.payload["cast_at"] == 14.9  # logged: a replay judges it alike
    step = room.step([vote(BO, "stairs", 15.4, cast_at=15.1)], 15.4)
    assert [m["code"] for m in messages(step, ToDevice(BO.device))] == ["window-closed"]
    decision = next(c for c in room.step([], 15.5).commands if isinstance(c, Decide))
    assert (decision.option, decision.at) == ("door", 15.5)


def test_affect_is_kept_in_memory_and_only_the_room_mood_is_logged():
    room = started("mood")
    affect = Affect(valence=0.5, arousal=0.7, engagement=0.9, heart_rate_bpm=70.0)
    step = room.step([Incoming(ADA, affect, 6.0)], 6.0)
    (mood,) = parts(step, EventRecord)
    assert mood.kind == "RoomMood" and "device" not in mood.payload
    assert mood.payload["viewers"] == 1
    screen_mood = [s for s in room.live(6.0) if s.item.kind == "mood"]
    assert screen_mood and json.loads(screen_mood[0].item.text)["valence"] == 0.5


def test_affect_from_a_device_not_in_the_room_is_refused_not_kept():
    room = started()
    stray = Sensed(AffectSampleOf("zed", 6.0))
    step = room.step([stray], 6.0)
    assert [(c.event, c.code) for c in step.commands] == [("AffectSample", "unknown-device")]
    assert parts(step, EventRecord) == []


def AffectSampleOf(device: str, at: float) -> AffectSample:
    return AffectSample(DeviceId(device), 0.1, 0.2, 0.3, at)


def test_snapshots_come_every_few_events_and_restore_continues_identically():
    room = started()
    log: list[EventRecord] = []
    snapshot = None
    for i, item in enumerate([vote(ADA, "door", 6.0), vote(BO, "stairs", 7.0)] * 4):
        step = room.step([_seq(item, i + 1)], 6.0 + i)
        log += parts(step, EventRecord)
        snapshot = (parts(step, SnapshotRecord) or [snapshot])[-1]
    assert snapshot is not None
    after = [e for e in log if e.seq > snapshot.seq]
    restored = RoomCore.restore(
        code=CODE, mode="phones-play", story=STORY_MODEL, story_digest=STORY_MODEL.digest(),
        screening=Screening(STORY_MODEL, policy_from_spec({"name": "plurality"}), 7),
        show_tally=False, snapshot=snapshot, events=after, last_decision=None,
        settings=CoreSettings(snapshot_every=10),
    )  # fmt: skip
    assert restored.seq == room.seq
    assert restored.screening.snapshot() == room.screening.snapshot()
    # Phones present before the restart leave at the first step: their sockets died.
    first = restored.step([], 14.0)
    assert kinds(first)[:2] == ["Leave", "Leave"]
    assert restored.summary().phones == 0


def _seq(item: Incoming, seq: int) -> Incoming:
    message = item.message.model_copy(update={"seq": seq})
    return Incoming(item.page, message, item.received_at, item.cast_at)


def test_explore_arm_rewards_are_committed_with_the_scene_they_follow():
    room = started("explore")
    room.step([vote(ADA, "door", 6.0)], 6.0)
    room.step([], 15.0)  # decided
    room.step([], 30.0)  # the chosen scene starts
    affect = Affect(valence=0.5, arousal=0.7, engagement=0.9)
    room.step([Incoming(ADA, affect, 31.0)], 31.0)  # a camera watches it
    step = room.step([], 50.0)  # ... and it ends: its engagement is the arm's reward
    assert parts(step, ArmIncrement)


def test_a_fill_in_judged_in_time_is_logged_and_cued_a_late_one_only_recorded():
    story = load_story(
        STORY.replace(
            "cellar: {media: cellar, duration: 20, next: finale}",
            "cellar: {media: cellar, duration: 20, next: finale, generate: "
            "{backend: montage, prompt: the cellar}}",
        ),
        "s.yaml",
    )
    screening = Screening(story, policy_from_spec({"name": "plurality"}), 7)
    room = RoomCore(
        code=CODE, mode="phones-play", story_digest=story.digest(),
        screening=screening,
    )  # fmt: skip
    room.step([Attach(HOST)], 0.0)
    room.step([host(HOST, "start", 0.0)], 0.0)
    record = _asset("j1", "done")
    fill_in = FillIn(SceneId("cellar"), "generated/j1", "j1", 3.0)
    step = room.step([Judged(record, fill_in)], 3.0)
    assert record in step.parts
    assert [e.kind for e in parts(step, EventRecord)] == ["FillIn"]
    assert fill_in in step.commands  # the film pre-reads it
    late = _asset("j2", "late")
    step = room.step([Judged(late, None)], 4.0)
    assert late in step.parts and parts(step, EventRecord) == []


def _asset(job: str, status: str) -> AssetRecord:
    return AssetRecord(
        job, CODE, "cellar", status, "generated/" + job, "montage", "", "p", 1, 20.0, {},
        None, "w", None, 3.0,
    )  # fmt: skip


def test_the_summary_is_a_frozen_value_of_the_room_after_its_last_step():
    room = started()
    summary = room.summary()
    assert summary is room.summary()  # kept until the next step
    assert (summary.phase, summary.phones, summary.connected["host"]) == (Phase.PLAYING, 2, 1)
    assert room.roster().online == {HOST.device, ADA.device, BO.device}
    room.step([Detach(BO)], 6.0)
    assert room.summary().phones == 1 and summary.phones == 2
    with pytest.raises(AttributeError):
        summary.phones = 3  # type: ignore[misc]


def test_ticks_that_change_nothing_are_not_logged():
    room = started()
    assert room.step([], 6.0).parts == []
    assert any(isinstance(c, PlayScene) for c in room.step([], 30.0).commands)


def test_replaying_the_log_gives_the_same_commands():
    """What the core logged is what it fed the screening: replay is exact."""
    room = core(grace=0.5)
    log: list[EventRecord] = []
    commands = []
    for items, now in (
        ([Attach(HOST), Attach(ADA), Attach(BO)], 0.0),
        ([host(HOST, "start", 0.0)], 0.0),
        ([vote(ADA, "door", 6.0)], 6.0),
        ([vote(BO, "stairs", 15.2, cast_at=14.95)], 15.2),
        ([Detach(BO)], 15.5),
        ([], 40.0),
    ):
        step = room.step(items, now)
        log += parts(step, EventRecord)
        commands += step.commands
    fresh = Screening(STORY_MODEL, policy_from_spec({"name": "plurality"}), 7, 0.5)
    replayed = [c for entry in log for c in fresh.handle(event_from_json(entry.payload))]
    assert replayed == commands
    assert fresh.snapshot() == room.screening.snapshot()


def _restored(absent_until: float) -> RoomCore:
    room = started()
    room.step([vote(ADA, "door", 6.0)], 6.0)
    data = SnapshotRecord(CODE, room.seq, {"screening": room.screening.snapshot(),
                                           "tracker": room.tracker.to_json()})  # fmt: skip
    return RoomCore.restore(
        code=CODE, mode="phones-play", story=STORY_MODEL, story_digest=STORY_MODEL.digest(),
        screening=Screening(STORY_MODEL, policy_from_spec({"name": "plurality"}), 7),
        show_tally=False, snapshot=data, events=[], last_decision=None,
        absent_until=absent_until,
    )  # fmt: skip


def test_after_a_change_of_owner_pages_that_stayed_come_back_without_joining_again():
    """A new owner restores the room while the phones' sockets stay open on other
    processes: they are taken in again (and welcomed), and only those that do not come
    back by ``absent_until`` leave the screening."""
    room = _restored(absent_until=8.0)
    step = room.step([Attach(ADA, resumed=True), Attach(HOST, resumed=True)], 7.0)
    assert kinds(step) == []  # ADA was present: no Join, no Leave
    assert types(step, ToPage(ADA.key)) == ["welcome"]
    assert messages(step, ToPage(ADA.key))[0]["your_vote"]["option"] == "door"
    assert room.summary().phones == 1
    assert kinds(room.step([], 7.5)) == []  # BO may still come back
    assert kinds(room.step([], 8.0)) == ["Leave"]  # ... it did not
    assert room.screening.devices == (ADA.device,)


def test_after_a_restart_absent_phones_leave_at_once():
    room = _restored(absent_until=float("-inf"))
    assert kinds(room.step([], 7.0)) == ["Leave", "Leave"]
    assert kinds(room.step([Attach(ADA)], 7.5))[0] == "Join"
