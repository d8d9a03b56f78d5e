"""Consensus: how the ballots of one vote become the branch that plays.

Theory of operation. `decide()` is the only entry point; the `Screening` calls it when a
vote window closes, and `kinoroom tally` calls it on an audit file. It applies the rules
every policy shares, in this order, and only then asks the policy:

1. *Count what can be counted.* One live cast per device: the last one in `ctx.casts`
   (the phone may change its mind until the deadline). A cast counts only if the policy
   accepts its ballot type and it names at least one visible option; the `Screening`
   rejects the others earlier, so here they are simply left out of the count. Turnout is
   the number of counted devices out of `max(ctx.present, devices that cast)`: a phone
   that voted and then dropped off must not make turnout exceed 100 %.
2. *Nobody voted* → the fallback plays, unless the policy has a signal of its own
   (`Policy.decides_without_votes`: the mood policy with a camera reading, explore).
3. *Quorum* → when `ctx.quorum > 0` and fewer than that share of present phones voted,
   the fallback plays. This holds for every policy, mood and explore included: a host
   who sets a quorum asks for the director's cut when the room is not taking part.
4. *The policy scores.* Policies pick their winner with `lead()`, which carries the one
   tie rule: when the top score is shared, the director's cut wins if it is among the
   tied options, else the option earliest in story order.

**One count.** A policy's `Policy.scores` is its running score: what the screen's live
tally shows while the vote is open (`live_scores`) and exactly what `Policy.score`
decides from at the close, so the option a room watches lead is the option the policy
counts ahead. Chance enters once per vote, when it opens: `Policy.draw` takes what the
policy needs from the screening's generator (explore's Thompson samples) and the vote
keeps it, so reading the live tally never moves the generator and the decision uses the
very draw the screen showed.

The fallback is the director's cut (`ctx.default`) when it is visible; when a condition
hid it, the first visible option. Every `Decision.reason` is one sentence a viewer can
read on the big screen, written with labels, never ids.

Randomness comes in as a `random.Random` (only the explore policy draws from it), so a
decision replays exactly from the event log.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from narrative.ballots import Ballot, Cast, ballot_options
from narrative.ids import ChoiceId, DeviceId, OptionId
from narrative.mood import LEVELS, RANGES, Mood
from narrative.tally import RunningCount

# What chance decided for one vote when it opened (`Policy.draw`): one float per visible
# option in story order, or nothing for the policies that draw nothing.
Draw = tuple[float, ...]
Scores = tuple[tuple[OptionId, float], ...]  # every visible option's score, story order

# The choice id of a vote that stands alone (an audit file, a test) rather than in a story.
LONE_VOTE = ChoiceId("vote")

# Scores closer than this are a tie: weighted sums such as 0.1 + 0.2 and 0.3 must tie.
_REL_TOL = 1e-9
_ABS_TOL = 1e-12


def resolve_mood_target(target: Mapping[str, str | float]) -> tuple[tuple[str, float], ...]:
    """Turn a story's `mood:` target into numbers, so policies never see level names.

    Args:
        target: dimension (``valence``, ``arousal``, ``engagement``) → level name
            (``low``, ``mid``, ``high``, see `narrative.mood.LEVELS`) or a number.

    Returns:
        ``(dimension, value)`` pairs in `LEVELS` order; numbers are clamped to the
        dimension's range, because a target outside it can never be met anyway.

    Raises:
        ValueError: unknown dimension or level name (the story model rejects both first).
    """
    resolved: dict[str, float] = {}
    for dimension, value in target.items():
        if dimension not in LEVELS:
            raise ValueError(f"unknown mood dimension {dimension!r}")
        if isinstance(value, str):
            if value not in LEVELS[dimension]:
                raise ValueError(f"unknown {dimension} level {value!r}")
            resolved[dimension] = LEVELS[dimension][value]
        elif isinstance(value, bool) or not math.isfinite(value):
            raise ValueError(f"{dimension} target must be a level name or a finite number")
        else:
            low, high = RANGES[dimension]
            resolved[dimension] = min(high, max(low, float(value)))
    return tuple((d, resolved[d]) for d in LEVELS if d in resolved)


@dataclass(frozen=True, slots=True)
class OptionInfo:
    """An option as the policies see it: what to call it and the mood it suits."""

    id: OptionId
    label: str
    mood: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class VoteContext:
    """Everything one decision depends on, as plain values (see the module docstring).

    `options` are the options visible to the room, in story order; `present` is how many
    phones are in the room; `quorum` the share of them that must vote (0 = no quorum).
    """

    options: tuple[OptionInfo, ...]
    default: OptionId
    casts: tuple[Cast, ...]
    present: int
    quorum: float = 0.0
    mood: Mood | None = None
    choice: ChoiceId = LONE_VOTE  # which story node: explore keeps history per choice

    def __post_init__(self) -> None:
        if not self.options:
            raise ValueError("a vote needs at least one visible option")
        ids = [o.id for o in self.options]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate option ids in {ids}")
        if not 0.0 <= self.quorum <= 1.0:
            raise ValueError(f"quorum must be within 0..1, got {self.quorum}")
        if self.present < 0:
            raise ValueError(f"present must be >= 0, got {self.present}")

    @property
    def fallback(self) -> OptionId:
        """The director's cut, or the first option when a condition hides it."""
        if any(o.id == self.default for o in self.options):
            return self.default
        return self.options[0].id

    def label(self, option: OptionId) -> str:
        for info in self.options:
            if info.id == option:
                return info.label
        return option

    @property
    def has_mood_reading(self) -> bool:
        return self.mood is not None and self.mood.viewers > 0


@dataclass(frozen=True, slots=True)
class Turnout:
    voted: int
    present: int


@dataclass(frozen=True, slots=True)
class Decision:
    """What plays and why; `scores` lists every visible option in story order."""

    option: OptionId
    scores: Scores
    policy: str
    reason: str
    turnout: Turnout


@dataclass(frozen=True, slots=True)
class Poll:
    """The counted casts of one vote (rule 1 of the module docstring), handed to a policy
    as their running count (`narrative.tally.RunningCount`)."""

    ctx: VoteContext
    count: RunningCount
    turnout: Turnout

    def pick_counts(self, *, weighted: bool = False) -> dict[OptionId, float]:
        """Votes per visible option from `Pick` ballots, every option present.

        With ``weighted``, each pick counts its cast's weight; a weight that is not a
        finite positive number counts 0 (a muted phone still shows up in turnout).
        """
        return self.count.score("weighted" if weighted else "picks")


@dataclass(frozen=True, slots=True)
class Lead:
    """The winner under the tie rule, and every option level with it (story order)."""

    option: OptionId
    tied: tuple[OptionId, ...]


def lead(
    ctx: VoteContext, scores: Mapping[OptionId, float], among: Iterable[OptionId] | None = None
) -> Lead:
    """Highest score wins; a tie goes to the director's cut if tied, else the earliest option.

    Args:
        ctx: the vote (story order and fallback).
        scores: a score for every candidate.
        among: restrict the race to these options (default: every visible option).
    """
    allowed = None if among is None else set(among)
    candidates = [o.id for o in ctx.options if allowed is None or o.id in allowed]
    top = max(scores[c] for c in candidates)
    tied = tuple(
        c for c in candidates if math.isclose(scores[c], top, rel_tol=_REL_TOL, abs_tol=_ABS_TOL)
    )
    winner = ctx.fallback if ctx.fallback in tied else tied[0]
    return Lead(winner, tied)


class Policy(Protocol):
    """A consensus policy; see `narrative.policies` for the seven and their registry."""

    @property
    def name(self) -> str: ...

    def accepts(self, ballot: Ballot) -> bool:
        """Whether this ballot type counts (Pick: all; Ranking: borda; Approval: approval)."""
        ...

    def decides_without_votes(self, ctx: VoteContext) -> bool:
        """Whether the policy has a signal of its own when nobody voted."""
        ...

    def draw(self, ctx: VoteContext, rng: random.Random) -> Draw:
        """What chance decides for this vote, drawn once when it opens (explore: one
        Thompson sample per visible option, in story order); ``()`` for the others."""
        ...

    def scores(self, poll: Poll, draw: Draw) -> dict[OptionId, float]:
        """The running score of every visible option: the live tally, and what `score`
        decides from. Draws nothing."""
        ...

    def score(self, poll: Poll, draw: Draw) -> Decision:
        """Decide from `scores` once the shared rules passed; only `decide()` calls this."""
        ...

    def spec(self) -> dict[str, object]:
        """JSON-ready ``{"name": ..., **params}``; `policy_from_spec` rebuilds an equal policy."""
        ...


def count(policy: Policy, ctx: VoteContext) -> Poll:
    """Rule 1: one live cast per device, only ballots the policy accepts on visible options."""
    live: dict[DeviceId, Cast] = {}
    for cast in ctx.casts:
        live.pop(cast.device, None)  # re-insert so order follows the live casts
        live[cast.device] = cast
    visible = {o.id for o in ctx.options}
    counted = [
        cast
        for cast in live.values()
        if policy.accepts(cast.ballot) and any(o in visible for o in ballot_options(cast.ballot))
    ]
    tally = RunningCount.of((o.id for o in ctx.options), counted)
    return Poll(ctx, tally, Turnout(len(counted), max(ctx.present, len(live))))


def counted(ctx: VoteContext, tally: RunningCount) -> Poll:
    """A poll from a count kept as the ballots came (the `Screening`'s, whose ballots are
    one per device and all countable: rule 1 already held as each arrived)."""
    return Poll(ctx, tally, Turnout(tally.voted, max(ctx.present, tally.voted)))


def decide(
    policy: Policy,
    ctx: VoteContext,
    rng: random.Random,
    *,
    draw: Draw | None = None,
    tally: RunningCount | None = None,
) -> Decision:
    """Pick the option that plays: the shared rules of the module docstring, then the policy.

    Args:
        policy: the room's (or the choice's) consensus policy.
        ctx: the visible options, the casts, turnout, quorum and mood.
        rng: the screening's seeded generator; only the explore policy draws from it, and
            only when ``draw`` is None.
        draw: what `Policy.draw` gave when the vote opened (the screening keeps it);
            None draws now, as an audit of a lone vote does.
        tally: the vote's running count, when the caller kept one (`counted`); None
            counts ``ctx.casts``.

    Returns:
        The decision, its scores for every visible option and a one-sentence reason.
    """
    if draw is None:
        draw = policy.draw(ctx, rng)
    poll = count(policy, ctx) if tally is None else counted(ctx, tally)
    voted, present = poll.turnout.voted, poll.turnout.present
    if voted == 0 and not policy.decides_without_votes(ctx):
        room = plural(present, "phone", "phones") + " present" if present else "no phones present"
        reason = f"Nobody voted ({room}): {fallback_phrase(ctx)} plays."
    elif ctx.quorum > 0 and (present == 0 or voted / present < ctx.quorum):
        reason = (
            f"Quorum not met ({turnout_phrase(poll.turnout)}, {percent(ctx.quorum)} needed): "
            f"{fallback_phrase(ctx)} plays."
        )
    else:
        return policy.score(poll, draw)
    # The fallback plays, but the policy's own scores are kept: the screen and the audit
    # file still show what the votes said.
    return Decision(ctx.fallback, ordered(ctx, policy.scores(poll, draw)), policy.name, reason,
                    poll.turnout)  # fmt: skip


def live_scores(
    policy: Policy, ctx: VoteContext, draw: Draw, tally: RunningCount
) -> tuple[Scores, Turnout]:
    """The open vote's scores so far: every visible option's score as the policy counts
    it from the running ``tally`` (story order), and turnout. The same numbers `decide`
    gives at the close for the same count, mood and draw, whatever the policy (module
    docstring, "One count")."""
    poll = counted(ctx, tally)
    return ordered(ctx, policy.scores(poll, draw)), poll.turnout


def ordered(ctx: VoteContext, scores: Mapping[OptionId, float]) -> Scores:
    """``scores`` as ``(option, score)`` pairs for every visible option, in story order."""
    return tuple((o.id, scores[o.id]) for o in ctx.options)


# --- Reason text: the few phrases every policy's sentence is built from. ---


def number(value: float) -> str:
    """Whole numbers as integers, others with at most two decimals: '14', '3.5', '0.41'."""
    if math.isclose(value, round(value), abs_tol=1e-9):
        return str(round(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def percent(share: float) -> str:
    return f"{round(share * 100)} %"


def plural(value: float, one: str, many: str) -> str:
    return f"{number(value)} {one if number(value) == '1' else many}"


def turnout_phrase(turnout: Turnout) -> str:
    """'23 of 30 phones voted'; the one place turnout is worded."""
    if turnout.present == 0:
        return "no phones present"
    noun = "phone" if turnout.present == 1 else "phones"
    return f"{turnout.voted} of {turnout.present} {noun} voted"


def fallback_phrase(ctx: VoteContext) -> str:
    label = ctx.label(ctx.fallback)
    if ctx.fallback == ctx.default:
        return f"the director's cut '{label}'"
    return f"the first option '{label}'"


def tie_phrase(ctx: VoteContext, winner: Lead) -> str:
    """'' unless the lead was shared; then which rule broke the tie, for the viewer."""
    if len(winner.tied) < 2:
        return ""
    if winner.option == ctx.default:
        return " (a tie: the director's cut wins it)"
    return " (a tie: the earlier option wins it)"


def score_list(
    ctx: VoteContext, scores: Mapping[OptionId, float], winner: OptionId, unit: tuple[str, str]
) -> str:
    """'Board the train 14 pts, Wait 9 pts': winner first, then by score; zeros left out."""
    order = {o.id: i for i, o in enumerate(ctx.options)}
    rest = sorted(
        (o.id for o in ctx.options if o.id != winner and scores[o.id] != 0),
        key=lambda o: (-scores[o], order[o]),
    )
    return ", ".join(f"{ctx.label(o)} {plural(scores[o], *unit)}" for o in (winner, *rest))


__all__ = [
    "Decision",
    "Draw",
    "Lead",
    "OptionInfo",
    "Policy",
    "Poll",
    "Scores",
    "Turnout",
    "VoteContext",
    "count",
    "counted",
    "decide",
    "fallback_phrase",
    "lead",
    "live_scores",
    "number",
    "ordered",
    "percent",
    "plural",
    "resolve_mood_target",
    "score_list",
    "tie_phrase",
    "turnout_phrase",
]
