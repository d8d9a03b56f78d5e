"""The room's mood message: recomputed when it may have changed, sent only when it did."""

from __future__ import annotations

import json

from narrative.events import Join, RoomMood
from narrative.ids import DeviceId
from narrative.policies import policy_from_spec
from narrative.screening import Screening
from server.rooms.outbound import MOOD_REFRESH_S, RoomOutbound
from tests.narrative.screening_story import STORY_MODEL


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t


class Outbound(RoomOutbound):
    def __init__(self) -> None:
        self.screening = Screening(STORY_MODEL, policy_from_spec({"name": "plurality"}))
        self.clock = Clock()  # type: ignore[assignment]
        self._init_outbound()

    def pending(self, now: float) -> dict[str, object] | None:
        self._current_mood(now)
        item = self._mood[2]
        self._mood = (self._mood[0], self._mood[1], None)  # as `_flush_live` sends it
        return json.loads(item.text) if item is not None else None


def test_no_camera_no_message_then_only_changes_are_sent():
    out = Outbound()
    for i in range(3):
        out.screening.handle(Join(DeviceId(f"p{i}"), 0.0))
    out._presence_dirty = True
    assert out.pending(0.0) is None  # nobody shares a mood: the screen shows no meter
    out._presence_dirty = False  # (`_flush_live` clears it once presence is sent)
    out.screening.handle(RoomMood(0.3, 0.1, 0.5, 1, 3, 0.0))  # as the room feeds it
    out._mood_dirty = True
    first = out.pending(0.1)
    assert first == {
        "type": "mood", "valence": 0.3, "arousal": 0.1, "engagement": 0.5,
        "viewers": 1, "participation": 0.33,
    }  # fmt: skip
    out.screening.handle(RoomMood(0.301, 0.1, 0.5, 1, 3, 0.2))
    out._mood_dirty = True
    assert out.pending(0.2) is None  # the same at two decimals: nothing to send
    out._presence_dirty = True  # a screen connected: it needs the meter
    assert out.pending(0.3) == first
    out._presence_dirty = False
    out.clock.t = 20.0  # no sample for 20 s: the room's next reading counts no camera
    out.screening.handle(RoomMood(0.0, 0.0, 0.5, 0, 3, 20.0))
    assert out.pending(0.3 + MOOD_REFRESH_S)["viewers"] == 0  # type: ignore[index]
