"""What a shell may read of a `Screening` between events, without changing it.

A base class of `Screening`, kept apart so that the state machine's module holds only
what decides; everything here is a read-only view of `ScreeningState`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from narrative.ballots import Ballot
from narrative.consensus import (
    OptionInfo,
    Policy,
    Scores,
    Turnout,
    VoteContext,
    live_scores,
    resolve_mood_target,
)
from narrative.events import OpenVote, PlayScene
from narrative.expressions import Value
from narrative.ids import ChoiceId, DeviceId, OptionId, SceneId
from narrative.mood import Mood
from narrative.plot import Plot
from narrative.policies import policy_from_spec
from narrative.screening_state import Phase, ScreeningState, VoteState


@dataclass(frozen=True, slots=True)
class LiveTally:
    """The open vote's running count, as its policy counts it (`Screening.live_tally`)."""

    choice: ChoiceId
    scores: Scores  # every visible option, story order
    turnout: Turnout


class ScreeningViews:
    story: Plot
    policy: Policy
    _state: ScreeningState
    _choice_policies: dict[str, Policy]

    @property
    def phase(self) -> Phase:
        return self._state.phase

    @property
    def scene(self) -> SceneId | None:
        return self._state.scene

    @property
    def vote(self) -> VoteState | None:
        """The current scene's vote (open, pending or decided), if it has a choice."""
        return self._state.vote

    @property
    def now_playing(self) -> PlayScene | None:
        """The scene on screen, as the `PlayScene` that started it (None before and after)."""
        state = self._state
        if state.phase is not Phase.PLAYING or state.scene is None:
            return None
        scene = self.story.scene(state.scene)
        variant = scene.variants[state.variant] if state.variant is not None else None
        gain = variant.music_gain_db if variant and variant.music_gain_db is not None else 0.0
        media: str | None
        if variant and variant.media:  # the director's adaptive cut wins over a fill-in
            media, generated = variant.media, None
        elif state.generated is not None:
            media, generated = state.generated
        else:
            media, generated = scene.media, None
        return PlayScene(
            state.scene, state.variant, media, gain, state.starts_at, state.ends_at, generated,
            scene.text,
        )  # fmt: skip

    @property
    def opened_vote(self) -> OpenVote | None:
        """The scene's vote as it opened, if it has (open now, or decided since): what a
        restored room's fill-ins submitted for its options."""
        vote = self._state.vote
        if self._state.phase is not Phase.PLAYING or vote is None or not vote.opened:
            return None
        return OpenVote(vote.choice, vote.options, vote.opens_at, vote.closes_at)

    @property
    def open_vote(self) -> OpenVote | None:
        """The vote phones may cast into right now, if one is open."""
        vote = self._state.vote
        return self.opened_vote if vote is not None and vote.decided is None else None

    def live_tally(self, now: float) -> LiveTally | None:
        """The open vote's scores so far, counted by the policy that will decide it, with
        the chance it drew when the vote opened: the last tally before the decision ranks
        the options as the decision does (`narrative.consensus`, "One count"). Draws
        nothing, changes nothing."""
        vote = self._state.vote
        if self.open_vote is None or vote is None:
            return None
        assert vote.draw is not None  # drawn as it opened (or as it was restored)
        policy, ctx = self.policy_for(vote.choice), self._vote_context(vote, now)
        scores, turnout = live_scores(policy, ctx, vote.draw, vote.tally)
        return LiveTally(vote.choice, scores, turnout)

    def _vote_context(self, vote: VoteState, at: float) -> VoteContext:
        """Everything the vote's decision depends on at ``at``, as plain values."""
        choice = self.story.scene(vote.choice).choice
        assert choice is not None
        by_id = {o.id: o for o in choice.options}
        devices = self._state.devices  # present; voters who left count too
        return VoteContext(
            options=tuple(
                OptionInfo(
                    o,
                    by_id[o].label,
                    resolve_mood_target({str(d): v for d, v in by_id[o].mood.items()}),
                )
                for o in vote.options
            ),
            default=OptionId(choice.default),
            casts=(),  # counted as they came: `vote.tally`
            present=len(devices) + sum(d not in devices for d in vote.ballots),
            quorum=choice.quorum,
            mood=self.mood(at),
            choice=vote.choice,
        )

    def live_ballot(self, device: DeviceId) -> tuple[int, Ballot] | None:
        """The device's counted ballot in the open vote, with its seq (for a reconnect)."""
        vote = self._state.vote
        entry = vote.ballots.get(device) if vote is not None else None
        return (entry.seq, entry.ballot) if entry is not None else None

    def next_due(self) -> float | None:
        """The next instant something happens without any event (a shell sleeps until then)."""
        state = self._state
        if state.phase is not Phase.PLAYING:
            return None
        vote = state.vote
        if vote is not None and vote.decided is None:
            return vote.decide_at if vote.opened else vote.opens_at
        return state.ends_at

    def policy_for(self, choice: ChoiceId) -> Policy:
        """The policy that decides ``choice``: the choice's own, else the room's."""
        scene_choice = self.story.scene(choice).choice
        assert scene_choice is not None
        name = scene_choice.policy
        if name is None or name == self.policy.name:
            return self.policy
        if name not in self._choice_policies:  # built once: votes are the hot path
            self._choice_policies[name] = policy_from_spec({"name": name})
        return self._choice_policies[name]

    @property
    def variables(self) -> Mapping[str, Value]:
        """The screening's variables; for a program, its own (ink's globals, now)."""
        return {**self._state.variables, **self.story.live_variables()}

    @property
    def devices(self) -> tuple[DeviceId, ...]:
        """Phones present (joined and not left), in order of joining."""
        return tuple(self._state.devices)

    @property
    def present(self) -> int:
        return len(self._state.devices)

    @property
    def path(self) -> tuple[SceneId, ...]:
        """Scenes played so far, in order."""
        return tuple(self._state.path)

    def mood(self, now: float) -> Mood:
        """The room's mood: the latest `RoomMood` reading the shell fed in at or before
        ``now`` (events arrive in time order, so that is the last one applied); neutral
        with no viewers before any. The shell computes it (`narrative.mood.LiveMood`)
        and keeps it fresh: a phone's stale sample shows up as a new reading."""
        return self._state.room_mood


__all__ = ["ScreeningViews"]
