"""Bot personas: when and how each votes, and what their reports add up to."""

from __future__ import annotations

import random

import pytest

from mobile_bridge.bots import (
    LAST_FRACTION,
    PERSONAS,
    BotReport,
    Persona,
    Seen,
    ballot,
    latency_figures,
    personas_for,
    plan_votes,
)

OPTIONS = ["a", "b", "c", "d"]


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.value)
@pytest.mark.parametrize("seed", range(20))
def test_every_plan_votes_inside_the_window_and_repeats_with_its_seed(persona, seed):
    plan = plan_votes(persona, OPTIONS, 10.0, random.Random(seed))
    assert plan == plan_votes(persona, OPTIONS, 10.0, random.Random(seed))
    for vote in plan:
        assert 0 <= vote.after_s <= LAST_FRACTION * 10.0
        assert sorted(vote.order) == OPTIONS
    assert [v.after_s for v in plan] == sorted(v.after_s for v in plan)


def test_each_persona_keeps_its_character():
    rng = random.Random(1)
    assert plan_votes(Persona.QUIET, OPTIONS, 10.0, rng) == []
    assert plan_votes(Persona.LOYAL, OPTIONS, 10.0, rng)[0].order[0] == "a"
    assert plan_votes(Persona.CONTRARIAN, OPTIONS, 10.0, rng)[0].order[0] == "d"
    assert plan_votes(Persona.LATE, OPTIONS, 10.0, rng)[0].after_s >= 0.8 * LAST_FRACTION * 10
    first, changed = plan_votes(Persona.UNDECIDED, OPTIONS, 10.0, rng)
    assert first.order[0] != changed.order[0]


def test_a_ballot_follows_the_vote_kind():
    order = ("c", "a", "b", "d")
    assert ballot("option", order) == ("c", None, None)
    assert ballot("ranking", order) == (None, ["c", "a", "b", "d"], None)
    assert ballot("approve", order) == (None, None, ["c", "a"])


def test_a_dozen_phones_is_a_mixed_audience():
    audience = personas_for(12)
    assert {p: audience.count(p) for p in PERSONAS} == {
        Persona.LOYAL: 2, Persona.CONTRARIAN: 2, Persona.RANDOM: 2, Persona.UNDECIDED: 2,
        Persona.LATE: 2, Persona.QUIET: 1, Persona.CAMERA: 1,
    }  # fmt: skip


def test_figures_measure_each_decision_from_its_close_and_from_the_first_phone():
    early = BotReport(Persona.LOYAL, ack_s=[0.004], acked_at=[1.0], votes=1)
    early.decisions["door"] = Seen("open", at=10.0, received=1000.1)
    late = BotReport(Persona.LATE, ack_s=[0.010], acked_at=[1.5], votes=1, error="timeout")
    late.decisions["door"] = Seen("open", at=10.0, received=1000.4)
    quiet = BotReport(Persona.QUIET, rejected=["window-closed"])
    figures = latency_figures([early, late, quiet], room_minus_wall=10.0 - 1000.0)
    assert figures["vote_ack_ms"] == {"p50": 4.0, "p95": 10.0, "p99": 10.0, "max": 10.0}
    assert figures["decision_spread_ms"] == {"p50": 0.0, "p95": 300.0, "p99": 300.0, "max": 300.0}
    assert figures["decision_latency_ms"]["max"] == pytest.approx(400.0, abs=0.01)
    assert figures["phones_decided"] == {"door": 2}
    assert figures["errors"] == {"timeout": 1} and figures["rejected"] == {"window-closed": 1}
    assert latency_figures([quiet])["vote_ack_ms"]["p99"] is None
