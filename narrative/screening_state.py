"""The mutable state of a `Screening` and its JSON snapshot.

Kept apart from the state machine so that what is *saved* is visible in one place: a
field added here and forgotten in `to_json` breaks the snapshot round-trip test.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from narrative.ballots import Ballot, Cast, ballot_from_json, ballot_to_json
from narrative.errors import SnapshotError
from narrative.expressions import Value
from narrative.ids import ChoiceId, DeviceId, OptionId, SceneId
from narrative.mood import NEUTRAL, Mood, SceneTally, mood_from_json, mood_to_json
from narrative.tally import RunningCount

# 3: the room-level mood only (the latest `RoomMood` and the scene's time-weighted sums):
# no per-viewer numbers. 1 and 2 are still read, dropping their per-phone samples and
# per-phone scene sums: the mood reads neutral until the room's next reading, and the
# scene in progress reports only what it sees from the restore on.
# 4: adds the fill-ins ready for the next boundary and the playing scene's generated clip
# (absent in 3, read as none).
# 5: adds the grace after a vote's close (``grace_s``, 0 before), each vote's ``decide_at``
# (its ``closes_at`` before) and the policy's ``draw`` taken when it opened (none before:
# drawn at the decision, as it was then).
# 6: adds "plot", the state of a story program (an ink run: `narrative.ink_plot`), kept
# by `Screening.snapshot` beside this state; graphs have none, so 5 reads as a graph's.
SNAPSHOT_VERSION = 6


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
    """One scene's vote. Ballots cast before ``closes_at`` count; the decision is taken at
    ``decide_at`` (the close plus the screening's grace, never past the scene's end), so
    a ballot cast in time but delayed by the network still arrives before it."""

    choice: ChoiceId
    opens_at: float
    closes_at: float
    decide_at: float
    opened: bool = False
    options: tuple[OptionId, ...] = ()
    ballots: dict[DeviceId, Ballots] = field(default_factory=dict)
    decided: OptionId | None = None
    draw: tuple[float, ...] | None = None  # the policy's `draw` when the vote opened
    # The ballots' running count (not saved: rebuilt from them, exactly, on restore).
    tally: RunningCount = field(default_factory=lambda: RunningCount(()))

    def open(self, options: tuple[OptionId, ...]) -> None:
        """The vote is open on ``options`` (the visible ones): counting starts."""
        self.opened, self.options = True, options
        self.tally = RunningCount.of(
            options, (Cast(device, b.ballot, b.weight) for device, b in self.ballots.items())
        )

    def cast(self, device: DeviceId, entry: Ballots) -> None:
        """``device``'s ballot is now ``entry`` (its earlier one, if any, no longer counts)."""
        previous = self.ballots.get(device)
        if previous is not None:
            self.tally.remove(Cast(device, previous.ballot, previous.weight))
        self.ballots[device] = entry
        self.tally.add(Cast(device, entry.ballot, entry.weight))


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
        self,
        *,
        story_digest: str,
        policy: dict[str, object],
        rng: tuple[Any, ...],
        grace_s: float,
    ) -> dict[str, object]:
        vote = self.vote
        return {
            "version": SNAPSHOT_VERSION,
            "story": story_digest,
            "policy": policy,
            "grace_s": grace_s,
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
                "decide_at": vote.decide_at,
                "opened": vote.opened,
                "options": list(vote.options),
                "decided": vote.decided,
                "draw": None if vote.draw is None else list(vote.draw),
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
    ) -> tuple[ScreeningState, dict[str, object], tuple[Any, ...], float]:
        """Rebuild the state; returns it with the policy spec, the generator state and the
        grace after a vote's close.

        Raises:
            SnapshotError: ``story-mismatch`` for another story's snapshot, ``bad-snapshot``
                for anything malformed.
        """
        known = range(1, SNAPSHOT_VERSION + 1)
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
            grace_s = float(data.get("grace_s", 0.0))
        except (KeyError, TypeError, ValueError) as exc:
            raise SnapshotError(f"malformed snapshot: {exc!r}") from exc
        return state, policy, rng, grace_s


def _clip(data: Any) -> tuple[str, str] | None:
    if data is None:
        return None
    media, asset = data
    return (str(media), str(asset))


def _vote_from_json(data: Mapping[str, Any] | None) -> VoteState | None:
    if data is None:
        return None
    draw = data.get("draw")
    vote = VoteState(
        choice=ChoiceId(data["choice"]),
        opens_at=float(data["opens_at"]),
        closes_at=float(data["closes_at"]),
        decide_at=float(data.get("decide_at", data["closes_at"])),
        ballots={
            DeviceId(device): Ballots(int(seq), ballot_from_json(ballot), float(weight))
            for device, seq, ballot, weight in data["ballots"]
        },
        decided=data["decided"],
        draw=None if draw is None else tuple(float(x) for x in draw),
    )
    if data["opened"]:
        vote.open(tuple(OptionId(o) for o in data["options"]))
    return vote


__all__ = ["Ballots", "Phase", "ScreeningState", "VoteState"]
