"""The seven consensus policies and the registry that rebuilds one from its spec.

Each policy only scores: the rules every vote shares (one live vote per device, nobody
voted, quorum, ties) live in `narrative.consensus.decide`, which is what callers use.
A policy is a frozen value; ``policy_from_spec(p.spec()) == p`` for every policy, so a
room's policy is persisted as JSON and a replay rebuilds it exactly.

Build one in code with its class (``SupermajorityPolicy(threshold=0.75)``) and from data
(a story's ``policy:``, a room setting, a snapshot, an audit file) with
``policy_from_spec({"name": "supermajority", "threshold": 0.75})``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import ClassVar

from narrative.ballots import Approval, Ballot, Pick, Ranking
from narrative.consensus import (
    Decision,
    Draw,
    Policy,
    Poll,
    VoteContext,
    fallback_phrase,
    lead,
    number,
    ordered,
    percent,
    plural,
    score_list,
    tie_phrase,
    turnout_phrase,
)
from narrative.errors import PolicyError
from narrative.ids import ChoiceId, OptionId
from narrative.mood import RANGES

POLICY_NAMES = ("plurality", "borda", "approval", "supermajority", "weighted", "mood", "explore")

_VOTES = ("vote", "votes")


def _by_score(
    name: str, title: str, poll: Poll, scores: dict[OptionId, float], unit: tuple[str, str]
) -> Decision:
    """The top score wins (tie rule in `lead`); reason: 'Title: A 3 votes, B 1 vote; turnout.'"""
    ctx = poll.ctx
    winner = lead(ctx, scores)
    listed = score_list(ctx, scores, winner.option, unit)
    reason = f"{title}: {listed}{tie_phrase(ctx, winner)}; {turnout_phrase(poll.turnout)}."
    return _decision(name, poll, winner.option, scores, reason)


def _decision(
    name: str, poll: Poll, option: OptionId, scores: dict[OptionId, float], reason: str
) -> Decision:
    return Decision(option, ordered(poll.ctx, scores), name, reason, poll.turnout)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class _PolicyDefaults:
    """Defaults most policies share: picks only, nothing to go on without votes, no
    params, no chance."""

    __slots__ = ()
    name: ClassVar[str]

    def accepts(self, ballot: Ballot) -> bool:
        return isinstance(ballot, Pick)

    def decides_without_votes(self, ctx: VoteContext) -> bool:
        return False

    def draw(self, ctx: VoteContext, rng: random.Random) -> Draw:
        return ()

    def spec(self) -> dict[str, object]:
        return {"name": self.name}


@dataclass(frozen=True, slots=True)
class PluralityPolicy(_PolicyDefaults):
    """One phone, one vote; the most votes win."""

    name: ClassVar[str] = "plurality"

    def scores(self, poll: Poll, draw: Draw) -> dict[OptionId, float]:
        return poll.pick_counts()

    def score(self, poll: Poll, draw: Draw) -> Decision:
        return _by_score(self.name, "Plurality", poll, self.scores(poll, draw), _VOTES)


@dataclass(frozen=True, slots=True)
class BordaPolicy(_PolicyDefaults):
    """Rankings: with m options the first gets m−1 points, the next m−2, unranked 0.

    A `Pick` is a ranking of one. Hidden options are dropped from a ranking before it is
    scored, so points always run over the options the room could see.
    """

    name: ClassVar[str] = "borda"

    def accepts(self, ballot: Ballot) -> bool:
        return isinstance(ballot, Pick | Ranking)

    def scores(self, poll: Poll, draw: Draw) -> dict[OptionId, float]:
        return poll.count.score("points")

    def score(self, poll: Poll, draw: Draw) -> Decision:
        return _by_score(self.name, "Borda", poll, self.scores(poll, draw), ("pt", "pts"))


@dataclass(frozen=True, slots=True)
class ApprovalPolicy(_PolicyDefaults):
    """Each phone approves any number of options; most approvals win (a `Pick` approves one)."""

    name: ClassVar[str] = "approval"

    def accepts(self, ballot: Ballot) -> bool:
        return isinstance(ballot, Pick | Approval)

    def scores(self, poll: Poll, draw: Draw) -> dict[OptionId, float]:
        return poll.count.score("approvals")

    def score(self, poll: Poll, draw: Draw) -> Decision:
        approvals = self.scores(poll, draw)
        return _by_score(self.name, "Approval", poll, approvals, ("approval", "approvals"))


@dataclass(frozen=True, slots=True)
class SupermajorityPolicy(_PolicyDefaults):
    """The top option plays only with at least `threshold` of the votes cast.

    For branches a room should not take lightly: short of the threshold, the director's
    cut plays even if another option led.
    """

    threshold: float = 2 / 3
    name: ClassVar[str] = "supermajority"

    def __post_init__(self) -> None:
        if not _is_number(self.threshold) or not 0 < self.threshold <= 1:
            raise PolicyError(
                f"supermajority threshold must be a number in (0, 1], got {self.threshold!r}",
                code="bad-policy-params",
            )

    def scores(self, poll: Poll, draw: Draw) -> dict[OptionId, float]:
        return poll.pick_counts()

    def score(self, poll: Poll, draw: Draw) -> Decision:
        ctx = poll.ctx
        counts = self.scores(poll, draw)
        winner = lead(ctx, counts)
        cast = sum(counts.values())
        share = counts[winner.option] / cast if cast else 0.0
        had, need = percent(share), percent(self.threshold)
        if had == need and share < self.threshold:  # '67 %, short of 67 %' reads as a bug
            had, need = f"{share * 100:.1f} %", f"{self.threshold * 100:.1f} %"
        votes = plural(cast, *_VOTES)
        label = ctx.label(winner.option)
        if cast and share >= self.threshold:
            reason = (
                f"Supermajority: {label} had {had} of {votes}{tie_phrase(ctx, winner)}, "
                f"meeting the {need} needed; {turnout_phrase(poll.turnout)}."
            )
            return _decision(self.name, poll, winner.option, counts, reason)
        reason = (
            f"Supermajority: {label} had {had} of {votes}, short of {need}; "
            f"{fallback_phrase(ctx)} plays."
        )
        return _decision(self.name, poll, ctx.fallback, counts, reason)

    def spec(self) -> dict[str, object]:
        return {"name": self.name, "threshold": self.threshold}


@dataclass(frozen=True, slots=True)
class WeightedPolicy(_PolicyDefaults):
    """Each pick counts its cast's weight (a host may give the birthday guest 2)."""

    name: ClassVar[str] = "weighted"

    def scores(self, poll: Poll, draw: Draw) -> dict[OptionId, float]:
        return poll.pick_counts(weighted=True)

    def score(self, poll: Poll, draw: Draw) -> Decision:
        return _by_score(self.name, "Weighted", poll, self.scores(poll, draw), _VOTES)


@dataclass(frozen=True, slots=True)
class MoodPolicy(_PolicyDefaults):
    """The option whose mood target is nearest the room's mood plays; votes break ties.

    Distance is the root mean square, over the dimensions a target names, of the gap
    divided by that dimension's range; the score is ``1 − distance`` (1 = exact match).
    RMS rather than a plain sum keeps a one-dimension target comparable with a
    three-dimension one. Options without a target score 0 and only win when no option
    has one, and then, like a room without a camera reading, the vote decides.
    """

    name: ClassVar[str] = "mood"

    def decides_without_votes(self, ctx: VoteContext) -> bool:
        return ctx.has_mood_reading and any(o.mood for o in ctx.options)

    def scores(self, poll: Poll, draw: Draw) -> dict[OptionId, float]:
        """Closeness to the room's mood; the votes while there is nothing to be close to."""
        ctx = poll.ctx
        targeted = [o for o in ctx.options if o.mood]
        if ctx.mood is None or not ctx.has_mood_reading or not targeted:
            return poll.pick_counts()
        mood = ctx.mood
        closeness = {o.id: 0.0 for o in ctx.options}
        for option in targeted:
            gaps = [(mood.get(d) - t) / (RANGES[d][1] - RANGES[d][0]) for d, t in option.mood]
            closeness[option.id] = 1 - math.sqrt(sum(g * g for g in gaps) / len(gaps))
        return closeness

    def score(self, poll: Poll, draw: Draw) -> Decision:
        ctx = poll.ctx
        votes = poll.pick_counts()
        if ctx.mood is None or not ctx.has_mood_reading:
            return _by_score(
                self.name, "Mood: no camera reading, so the vote decides", poll, votes, _VOTES
            )
        targeted = [o for o in ctx.options if o.mood]
        if not targeted:
            title = "Mood: no option has a mood target, so the vote decides"
            return _by_score(self.name, title, poll, votes, _VOTES)
        mood = ctx.mood
        closeness = self.scores(poll, draw)
        nearest = lead(ctx, closeness, among=(o.id for o in targeted)).tied
        winner = lead(ctx, votes, among=nearest)
        label = ctx.label(winner.option)
        if len(nearest) == 1:
            tie = ""
        elif len(winner.tied) == 1:
            tie = ", level on mood with another option but ahead on votes"
        else:
            rule = "the director's cut" if winner.option == ctx.default else "the earlier option"
            tie = f", level on mood and votes, so {rule} wins"
        reason = (
            f"Mood: the room (valence {number(mood.valence)}, arousal {number(mood.arousal)}, "
            f"engagement {number(mood.engagement)}, {plural(mood.viewers, 'camera', 'cameras')}) "
            f"is closest to '{label}' ({percent(max(0.0, closeness[winner.option]))} match{tie}); "
            f"{turnout_phrase(poll.turnout)}."
        )
        return _decision(self.name, poll, winner.option, closeness, reason)


@dataclass(frozen=True, slots=True)
class ArmStats:
    """What past screenings learned of one option: how often it played, total engagement.

    `reward` is the sum of per-screening engagement rewards, each in [0, 1], so
    ``0 <= reward <= plays``.
    """

    plays: int
    reward: float

    def __post_init__(self) -> None:
        if isinstance(self.plays, bool) or not isinstance(self.plays, int) or self.plays < 0:
            raise PolicyError(
                f"plays must be an int >= 0, got {self.plays!r}", code="bad-policy-params"
            )
        if not _is_number(self.reward) or not 0 <= self.reward <= self.plays:
            raise PolicyError(
                f"reward must be a number in [0, plays={self.plays}], got {self.reward!r}",
                code="bad-policy-params",
            )


_UNSEEN = ArmStats(0, 0.0)


@dataclass(frozen=True, slots=True)
class ExplorePolicy(_PolicyDefaults):
    """A bandit across screenings: try branches no audience has seen, favour liked ones.

    Each option scores a Thompson sample from Beta(1 + reward, 1 + plays − reward),
    drawn in story order from the screening's rng when the vote opens (so the live tally
    shows the scores that will decide), plus ``vote_weight`` × its share of this room's
    votes. An option with no history samples uniformly, so over many screenings every
    branch gets played; one that kept rooms engaged samples high. The vote share keeps
    the room in charge: with the default weight 1, a unanimous room outweighs any
    history. History is kept per choice (``history[choice][option]``), because two story
    nodes may both have an option called ``yes``; `narrative.explore_history` folds a
    finished screening's engagement into it.
    """

    history: Mapping[ChoiceId, Mapping[OptionId, ArmStats]] = field(default_factory=dict)
    vote_weight: float = 1.0
    name: ClassVar[str] = "explore"

    def __post_init__(self) -> None:
        if not _is_number(self.vote_weight) or not 0 <= self.vote_weight < math.inf:
            raise PolicyError(
                f"vote_weight must be a finite number >= 0, got {self.vote_weight!r}",
                code="bad-policy-params",
            )
        copy: dict[ChoiceId, Mapping[OptionId, ArmStats]] = {}
        for choice, arms in self.history.items():
            if not isinstance(choice, str) or not isinstance(arms, Mapping):
                message = f"history maps choice ids to {{option: ArmStats}}, got {choice!r}"
                raise PolicyError(message, code="bad-policy-params")
            for option, arm in arms.items():
                if not isinstance(option, str) or not isinstance(arm, ArmStats):
                    message = f"history[{choice!r}] maps option ids to ArmStats, got {option!r}"
                    raise PolicyError(message, code="bad-policy-params")
            copy[choice] = MappingProxyType(dict(arms))
        # A private read-only copy: the caller's dict may keep changing between screenings.
        object.__setattr__(self, "history", MappingProxyType(copy))

    def decides_without_votes(self, ctx: VoteContext) -> bool:
        return True

    def draw(self, ctx: VoteContext, rng: random.Random) -> Draw:
        """One Thompson sample per visible option, in story order."""
        arms = self.history.get(ctx.choice, {})
        samples = []
        for option in ctx.options:
            arm = arms.get(option.id, _UNSEEN)
            samples.append(rng.betavariate(1 + arm.reward, 1 + arm.plays - arm.reward))
        return tuple(samples)

    def scores(self, poll: Poll, draw: Draw) -> dict[OptionId, float]:
        """Each option's sample (drawn when the vote opened) plus its weighted vote share."""
        ctx = poll.ctx
        if len(draw) != len(ctx.options):
            raise ValueError(f"explore needs one sample per option, got {len(draw)}")
        votes = poll.pick_counts()
        voted = poll.turnout.voted
        return {
            option.id: sample + self.vote_weight * (votes[option.id] / voted if voted else 0.0)
            for option, sample in zip(ctx.options, draw, strict=True)
        }

    def score(self, poll: Poll, draw: Draw) -> Decision:
        ctx = poll.ctx
        votes = poll.pick_counts()
        scores = self.scores(poll, draw)
        arms = self.history.get(ctx.choice, {})
        winner = lead(ctx, scores)
        arm = arms.get(winner.option, _UNSEEN)
        label = ctx.label(winner.option)
        if arm.plays == 0:
            past = f"'{label}' has not played before, so it gets a try"
        else:
            times = "once" if arm.plays == 1 else f"{arm.plays} times"
            past = f"'{label}' played {times} before, mean engagement {arm.reward / arm.plays:.2f}"
        if poll.turnout.present == 0:
            room = "no phones present"
        else:
            phones = plural(poll.turnout.present, "phone", "phones")
            room = f"{number(votes[winner.option])} of {phones} voted for it"
        reason = f"Explore: {past}{tie_phrase(ctx, winner)}; {room}."
        return _decision(self.name, poll, winner.option, scores, reason)

    def spec(self) -> dict[str, object]:
        history = {
            c: {o: {"plays": a.plays, "reward": a.reward} for o, a in arms.items()}
            for c, arms in self.history.items()
        }
        return {"name": self.name, "history": history, "vote_weight": self.vote_weight}


_SIMPLE: dict[str, Callable[[], Policy]] = {
    "plurality": PluralityPolicy,
    "borda": BordaPolicy,
    "approval": ApprovalPolicy,
    "weighted": WeightedPolicy,
    "mood": MoodPolicy,
}
_PARAMS = {"supermajority": ("threshold",), "explore": ("history", "vote_weight")}
_CLASSES: dict[str, type] = {
    "plurality": PluralityPolicy,
    "borda": BordaPolicy,
    "approval": ApprovalPolicy,
    "supermajority": SupermajorityPolicy,
    "weighted": WeightedPolicy,
    "mood": MoodPolicy,
    "explore": ExplorePolicy,
}


def policy_summary(name: str) -> str:
    """The first line of the policy's docstring: what a host reads when picking one.

    Raises:
        PolicyError: ``unknown-policy``.
    """
    if name not in _CLASSES:
        raise PolicyError(f"unknown policy {name!r}", code="unknown-policy")
    return (_CLASSES[name].__doc__ or name).strip().splitlines()[0]


def policy_from_spec(spec: Mapping[str, object]) -> Policy:
    """Build a policy from JSON-ready data: ``{"name": ..., **params}`` (what `spec()` gives).

    Raises:
        PolicyError: ``unknown-policy`` for a name not in `POLICY_NAMES`,
            ``bad-policy-params`` for a parameter the policy does not take or a bad value.
    """
    name = spec.get("name")
    if not isinstance(name, str) or name not in POLICY_NAMES:
        known = ", ".join(POLICY_NAMES)
        raise PolicyError(f"unknown policy {name!r}; known: {known}", code="unknown-policy")
    params = {k: v for k, v in spec.items() if k != "name"}
    allowed = _PARAMS.get(name, ())
    extra = sorted(set(params) - set(allowed))
    if extra:
        takes = f"takes {', '.join(allowed)}" if allowed else "takes no parameters"
        message = f"policy {name!r} {takes}; got {', '.join(extra)}"
        raise PolicyError(message, code="bad-policy-params")
    if name == "supermajority":
        return SupermajorityPolicy(_param_number(params, "threshold", 2 / 3))
    if name == "explore":
        history = _history(params.get("history", {}))
        return ExplorePolicy(history, _param_number(params, "vote_weight", 1.0))
    return _SIMPLE[name]()


def _param_number(params: Mapping[str, object], key: str, default: float) -> float:
    value = params.get(key, default)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise PolicyError(f"{key} must be a number, got {value!r}", code="bad-policy-params")
    return float(value)


def _history(raw: object) -> dict[ChoiceId, dict[OptionId, ArmStats]]:
    """``{choice: {option: {"plays": n, "reward": r}}}`` as `spec()` writes it."""
    shape = "history must map choice ids to {option: {plays, reward}}"
    if not isinstance(raw, Mapping):
        raise PolicyError(shape, code="bad-policy-params")
    history: dict[ChoiceId, dict[OptionId, ArmStats]] = {}
    for choice, arms in raw.items():
        if not isinstance(arms, Mapping):
            raise PolicyError(f"{shape}; got {choice!r}: {arms!r}", code="bad-policy-params")
        history[ChoiceId(choice)] = {}
        for option, arm in arms.items():
            if not isinstance(arm, Mapping) or set(arm) != {"plays", "reward"}:
                message = f"history[{choice!r}][{option!r}] must be {{plays, reward}}, got {arm!r}"
                raise PolicyError(message, code="bad-policy-params")
            stats = ArmStats(plays=arm["plays"], reward=arm["reward"])
            history[ChoiceId(choice)][OptionId(option)] = stats
    return history


__all__ = [
    "POLICY_NAMES",
    "ApprovalPolicy",
    "ArmStats",
    "BordaPolicy",
    "ExplorePolicy",
    "MoodPolicy",
    "PluralityPolicy",
    "SupermajorityPolicy",
    "WeightedPolicy",
    "policy_from_spec",
    "policy_summary",
]
