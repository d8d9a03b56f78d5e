"""Consensus policies over random vote profiles (hypothesis)."""

from __future__ import annotations

import json
import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from narrative.ballots import Cast, Pick, Ranking
from narrative.consensus import (
    OptionInfo,
    VoteContext,
    decide,
)
from narrative.ids import ChoiceId, DeviceId, OptionId
from narrative.policies import (
    POLICY_NAMES,
    ArmStats,
    BordaPolicy,
    ExplorePolicy,
    PluralityPolicy,
    SupermajorityPolicy,
    policy_from_spec,
)

VOTE = ChoiceId("vote")  # the choice a VoteContext is about unless it says otherwise


def run(policy, ctx, seed=0):
    return decide(policy, ctx, random.Random(seed))


IDS = [OptionId(f"o{i}") for i in range(5)]


PICKS_ONLY = st.just("pick")


@st.composite
def profiles(draw, ballots=PICKS_ONLY):
    """A visible option list, a default (sometimes hidden), casts, presence and quorum."""
    m = draw(st.integers(2, 5))
    opts = tuple(OptionInfo(i, i.upper()) for i in IDS[:m])
    default = draw(st.sampled_from(IDS))  # IDS beyond m are hidden options
    devices = draw(st.integers(0, 12))
    kind = draw(ballots)
    casts = []
    for n in range(draw(st.integers(0, 20))):
        device = DeviceId(f"p{n % devices}" if devices else f"p{n}")
        if kind == "ranking" and draw(st.booleans()):
            ranked = draw(st.lists(st.sampled_from(IDS), min_size=1, max_size=5, unique=True))
            casts.append(Cast(device, Ranking(tuple(ranked))))
        else:
            casts.append(Cast(device, Pick(draw(st.sampled_from(IDS)))))
    present = draw(st.integers(0, 25))
    quorum = draw(st.sampled_from([0.0, 0.0, 0.25, 0.5, 2 / 3, 1.0]))
    return VoteContext(opts, default, tuple(casts), present, quorum)


def live_picks(ctx: VoteContext) -> dict[DeviceId, OptionId]:
    visible = {o.id for o in ctx.options}
    last = {c.device: c.ballot for c in ctx.casts}
    return {d: b.option for d, b in last.items() if isinstance(b, Pick) and b.option in visible}


def expected_fallback(ctx: VoteContext) -> OptionId:
    ids = [o.id for o in ctx.options]
    return ctx.default if ctx.default in ids else ids[0]


def quorum_met(ctx: VoteContext, voted: int) -> bool:
    present = max(ctx.present, len({c.device for c in ctx.casts}))
    return voted > 0 and (ctx.quorum == 0 or (present > 0 and voted / present >= ctx.quorum))


def expected_top(ctx: VoteContext, scores: dict[OptionId, float]) -> OptionId:
    best = max(scores.values())
    tied = [o.id for o in ctx.options if abs(scores[o.id] - best) < 1e-9]
    fallback = expected_fallback(ctx)
    return fallback if fallback in tied else tied[0]


@given(profiles())
def test_plurality_winner_has_the_most_votes_or_the_rules_say_why_not(ctx):
    d = run(PluralityPolicy(), ctx)
    counts = Counter(live_picks(ctx).values())
    assert d.scores == tuple((o.id, counts[o.id]) for o in ctx.options)
    assert d.turnout.voted == sum(counts.values())
    if not quorum_met(ctx, d.turnout.voted):
        assert d.option == expected_fallback(ctx)
    else:
        assert counts[d.option] == max(counts.values())
        assert d.option == expected_top(ctx, dict(d.scores))


@given(profiles(ballots=st.just("ranking")))
def test_borda_totals_match_a_direct_count(ctx):
    visible = [o.id for o in ctx.options]
    m = len(visible)
    totals = dict.fromkeys(visible, 0)
    last = {c.device: c.ballot for c in ctx.casts}
    for ballot in last.values():
        ranked = (ballot.option,) if isinstance(ballot, Pick) else ballot.options
        shown = [o for o in ranked if o in visible]
        for place, option in enumerate(shown):
            totals[option] += m - 1 - place
    d = run(BordaPolicy(), ctx)
    assert dict(d.scores) == totals
    if quorum_met(ctx, d.turnout.voted):
        assert d.option == expected_top(ctx, totals)


@given(profiles(), st.sampled_from([0.5, 0.6, 2 / 3, 0.75, 1.0]))
def test_supermajority_wins_iff_share_reaches_threshold(ctx, threshold):
    d = run(SupermajorityPolicy(threshold), ctx)
    counts = Counter(live_picks(ctx).values())
    voted = sum(counts.values())
    if not quorum_met(ctx, voted):
        assert d.option == expected_fallback(ctx)
        return
    leader = expected_top(ctx, {o.id: counts[o.id] for o in ctx.options})
    if counts[leader] / voted >= threshold:
        assert d.option == leader
    else:
        assert d.option == expected_fallback(ctx)
        assert "short of" in d.reason


@given(profiles(), st.sampled_from(POLICY_NAMES))
def test_every_decision_is_a_visible_option_with_every_score_and_one_sentence(ctx, name):
    d = run(policy_from_spec({"name": name}), ctx)
    assert d.option in {o.id for o in ctx.options}
    assert [o for o, _ in d.scores] == [o.id for o in ctx.options]
    assert d.reason.endswith(".")
    assert ". " not in d.reason
    assert d.turnout.present >= d.turnout.voted


@given(profiles(), st.sampled_from(POLICY_NAMES))
def test_quorum_failure_always_plays_the_fallback(ctx, name):
    d = run(policy_from_spec({"name": name}), ctx)
    if ctx.quorum > 0 and (
        d.turnout.present == 0 or d.turnout.voted / d.turnout.present < ctx.quorum
    ):
        assert d.option == expected_fallback(ctx)
        assert d.reason.startswith(("Quorum not met", "Nobody voted"))


@given(profiles(), st.integers(0, 2**32))
def test_explore_is_deterministic_per_seed(ctx, seed):
    policy = ExplorePolicy({VOTE: {IDS[0]: ArmStats(3, 2.0)}})
    assert run(policy, ctx, seed) == run(policy, ctx, seed)


@settings(max_examples=50)
@given(
    profiles(),
    st.dictionaries(
        st.sampled_from(IDS),
        st.integers(0, 20).flatmap(lambda n: st.tuples(st.just(n), st.floats(0, n))),
    ),
    st.floats(0, 3),
    st.integers(0, 1000),
)
def test_a_policy_rebuilt_from_its_spec_decides_the_same(ctx, raw_history, weight, seed):
    history = {VOTE: {o: ArmStats(n, r) for o, (n, r) in raw_history.items()}}
    for policy in (ExplorePolicy(history, weight), SupermajorityPolicy(0.6), BordaPolicy()):
        rebuilt = policy_from_spec(json.loads(json.dumps(policy.spec())))
        assert run(rebuilt, ctx, seed) == run(policy, ctx, seed)
