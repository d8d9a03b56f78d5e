"""The mutable state of a `Screening` and its JSON snapshot.

Kept apart from the state machine so that what is *saved* is visible in one place: a
field added here and forgotten in `to_json` breaks the snapshot round-trip test.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from narrative.ballots import Ballot, ballot_from_json, ballot_to_json
from narrative.errors import SnapshotError
from narrative.expressions import Value
from narrative.ids import ChoiceId, DeviceId, OptionId, SceneId
from narrative.mood import NEUTRAL, Mood, SceneTally, mood_from_json, mood_to_json

# 3: the room-level mood only (the latest `RoomMood` and the scene's time-weighted sums):
# no per-viewer numbers. 1 and 2 are still read, dropping their per-phone samples and
# per-phone scene sums: the mood reads neutral until the room's next reading, and the
# scene in progress reports only what it sees from the restore on.
# 4: adds the fill-ins ready for the next boundary and the playing scene's generated clip
# (absent in 3, read as none).
# 5: adds "plot", the state of a story program (an ink run: `narrative.ink_plot`), kept
# by `Screening.snapshot` beside this state; graphs have none, so 4 reads as a graph's.
SNAPSHOT_VERSION = 5


class Phase(enum.Enum):
    WAITING = "waiting"
    PLAYING = "playing"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Ballots:
    """A device's live ballot in one vote; ``weight`` is its weight when it was cast."""

    seq: int
    ballot: Ballot
    weight: float


@dataclass(slots=True)
class VoteState:
    choice: ChoiceId
    opens_at: float
    closes_at: float
    opened: bool = False
    options: tuple[OptionId, ...] = ()
    ballots: dict[DeviceId, Ballots] = field(default_factory=dict)
    decided: OptionId | None = None


@dataclass(slots=True)
class ScreeningState:
    variables: dict[str, Value]
    phase: Phase = Phase.WAITING
    scene: SceneId | None = None
    starts_at: float = 0.0
    ends_at: float = 0.0
    variant: int | None = None
    next_scene: SceneId | None = None
    vote: VoteState | None = None
    decided: set[ChoiceId] = field(default_factory=set)
    path: list[SceneId] = field(default_factory=list)
    devices: dict[DeviceId, float] = field(default_factory=dict)
    room_mood: Mood = NEUTRAL
    scene_mood: SceneTally = field(default_factory=SceneTally)
    fill_ins: dict[SceneId, tuple[str, str]] = field(default_factory=dict)  # (media, asset)
    generated: tuple[str, str] | None = None  # the playing scene's fill-in (media, asset)

    def to_json(
        self, *, story_digest: str, policy: dict[str, object], rng: tuple[Any, ...]
    ) -> dict[str, object]:
        vote = self.vote
        return {
            "version": SNAPSHOT_VERSION,
            "story": story_digest,
            "policy": policy,
            "rng": [rng[0], list(rng[1]), rng[2]],
            "phase": self.phase.value,
            "scene": self.scene,
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "variant": self.variant,
            "next_scene": self.next_scene,
            "variables": dict(self.variables),
            "vote": None
            if vote is None
            else {
                "choice": vote.choice,
                "opens_at": vote.opens_at,
                "closes_at": vote.closes_at,
                "opened": vote.opened,
                "options": list(vote.options),
                "decided": vote.decided,
                "ballots": [
                    [device, b.seq, ballot_to_json(b.ballot), b.weight]
                    for device, b in vote.ballots.items()
                ],
            },
            "decided": sorted(self.decided),
            "path": list(self.path),
            "devices": [[device, weight] for device, weight in self.devices.items()],
            "room_mood": mood_to_json(self.room_mood),
            "scene_mood": self.scene_mood.snapshot(),
            "fill_ins": {scene: list(clip) for scene, clip in self.fill_ins.items()},
            "generated": None if self.generated is None else list(self.generated),
        }

    @classmethod
    def from_json(
        cls, data: Mapping[str, Any], *, story_digest: str
    ) -> tuple[ScreeningState, dict[str, object], tuple[Any, ...]]:
        """Rebuild the state; returns it with the policy spec and the generator state.

        Raises:
            SnapshotError: ``story-mismatch`` for another story's snapshot, ``bad-snapshot``
                for anything malformed.
        """
        known = (1, 2, 3, 4, SNAPSHOT_VERSION)
        if not isinstance(data, Mapping) or data.get("version") not in known:
            raise SnapshotError(f"not a version {SNAPSHOT_VERSION} screening snapshot")
        if data.get("story") != story_digest:
            raise SnapshotError(
                f"snapshot is of story {data.get('story')!r}, not {story_digest!r}",
                code="story-mismatch",
            )
        try:
            current = data["version"] >= 3
            devices = {DeviceId(d): float(w) for d, w in data["devices"]}
            room_mood = (
                mood_from_json(data["room_mood"])
                if current
                else Mood(NEUTRAL.valence, NEUTRAL.arousal, NEUTRAL.engagement, 0, len(devices))
            )
            if current:
                scene_mood = SceneTally.restore(data["scene_mood"])
            else:  # per-phone sums: dropped (see SNAPSHOT_VERSION)
                scene_mood = SceneTally()
                scene_mood.start(float(data["starts_at"]), room_mood)
            state = cls(
                variables=dict(data["variables"]),
                phase=Phase(data["phase"]),
                scene=data["scene"],
                starts_at=float(data["starts_at"]),
                ends_at=float(data["ends_at"]),
                variant=data["variant"],
                next_scene=data["next_scene"],
                vote=_vote_from_json(data["vote"]),
                decided={ChoiceId(c) for c in data["decided"]},
                path=[SceneId(s) for s in data["path"]],
                devices=devices,
                room_mood=room_mood,
                scene_mood=scene_mood,
                fill_ins={
                    SceneId(scene): (str(media), str(asset))
                    for scene, (media, asset) in data.get("fill_ins", {}).items()
                },
                generated=_clip(data.get("generated")),
            )
            version, internal, gauss = data["rng"]
            rng = (version, tuple(internal), gauss)
            policy = dict(data["policy"])
        except (KeyError, TypeError, ValueError) as exc:
            raise SnapshotError(f"malformed snapshot: {exc!r}") from exc
        return state, policy, rng


def _clip(data: Any) -> tuple[str, str] | None:
    if data is None:
        return None
    media, asset = data
    return (str(media), str(asset))


def _vote_from_json(data: Mapping[str, Any] | None) -> VoteState | None:
    if data is None:
        return None
    return VoteState(
        choice=ChoiceId(data["choice"]),
        opens_at=float(data["opens_at"]),
        closes_at=float(data["closes_at"]),
        opened=bool(data["opened"]),
        options=tuple(OptionId(o) for o in data["options"]),
        ballots={
            DeviceId(device): Ballots(int(seq), ballot_from_json(ballot), float(weight))
            for device, seq, ballot, weight in data["ballots"]
        },
        decided=data["decided"],
    )


__all__ = ["Ballots", "Phase", "ScreeningState", "VoteState"]
