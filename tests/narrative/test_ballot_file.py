"""The tally audit file behind `kinoroom tally`: same decision as the room, loud on bad input."""

from __future__ import annotations

import contextlib
import json
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from narrative.ballot_file import tally_json
from narrative.ballots import Cast, Pick
from narrative.consensus import OptionInfo, VoteContext, decide
from narrative.errors import BallotFileError, PolicyError
from narrative.ids import DeviceId, OptionId
from narrative.policies import POLICY_NAMES, policy_from_spec


def audit(**fields) -> str:
    base = {
        "options": ["board", {"id": "wait", "label": "Wait"}],
        "default": "wait",
        "ballots": [
            {"device": "p1", "option": "board"},
            {"device": "p2", "option": "board"},
            {"device": "p3", "option": "wait"},
        ],
    }
    return json.dumps(base | fields)


def test_plurality_tally_reports_winner_scores_reason_and_turnout():
    result = tally_json(audit(), "plurality")
    assert result == {
        "winner": "board",
        "scores": {"board": 2, "wait": 1},
        "reason": "Plurality: board 2 votes, Wait 1 vote; 3 of 3 phones voted.",
        "policy": "plurality",
        "turnout": {"voted": 3, "present": 3},
        "notes": [],
    }
    assert json.loads(json.dumps(result)) == result


def test_bytes_are_accepted():
    assert tally_json(audit().encode(), "plurality")["winner"] == "board"


def test_a_device_voting_again_replaces_its_ballot_and_the_result_says_so():
    ballots = [
        {"device": "p1", "option": "board"},
        {"device": "p2", "option": "wait"},
        {"device": "p1", "option": "wait"},
    ]
    result = tally_json(audit(ballots=ballots), "plurality")
    assert result["winner"] == "wait"
    assert result["scores"] == {"board": 0, "wait": 2}
    assert result["notes"] == ["ballots[2] replaces ballots[0] of 'p1'"]


def test_present_and_quorum_from_the_file():
    result = tally_json(audit(present=10, quorum=0.5), "plurality")
    assert result["winner"] == "wait"
    assert result["turnout"] == {"voted": 3, "present": 10}
    assert result["reason"].startswith("Quorum not met (3 of 10 phones voted, 50 % needed)")


def test_present_below_the_voters_is_noted_and_raised():
    result = tally_json(audit(present=1), "plurality")
    assert result["turnout"]["present"] == 3
    assert result["notes"] == ["present is 1 but 3 devices voted; counting 3"]


def test_policy_params_and_weights():
    result = tally_json(audit(policy_params={"threshold": 0.75}), "supermajority")
    assert result["winner"] == "wait"
    assert "short of 75 %" in result["reason"]
    heavy = [{"device": "host", "option": "wait", "weight": 3}, {"device": "a", "option": "board"}]
    assert tally_json(audit(ballots=heavy), "weighted")["scores"] == {"board": 1, "wait": 3}


def test_rankings_and_approvals():
    ranked = [{"device": "a", "ranking": ["wait", "board"]}, {"device": "b", "option": "board"}]
    assert tally_json(audit(ballots=ranked), "borda")["scores"] == {"board": 1, "wait": 1}
    approve = [{"device": "a", "approve": ["wait", "board"]}, {"device": "b", "approve": ["wait"]}]
    assert tally_json(audit(ballots=approve), "approval")["scores"] == {"board": 1, "wait": 2}


def test_mood_targets_and_reading():
    options = [
        {"id": "board", "mood": {"arousal": "high"}},
        {"id": "wait", "mood": {"arousal": "low"}},
    ]
    mood = {"valence": 0.0, "arousal": 0.6, "engagement": 0.9}
    result = tally_json(audit(options=options, ballots=[], present=4, mood=mood), "mood")
    assert result["winner"] == "board"
    assert "4 cameras" in result["reason"]


def test_explore_is_seeded_by_the_file():
    history = {"vote": {"board": {"plays": 4, "reward": 1.5}}}
    text = audit(ballots=[], present=2, policy_params={"history": history}, seed=7)
    first = tally_json(text, "explore")
    assert tally_json(text, "explore") == first
    winners = {tally_json(audit(ballots=[], seed=s), "explore")["winner"] for s in range(40)}
    assert winners == {"board", "wait"}


def test_the_file_decides_exactly_as_decide_does():
    ballots = [{"device": f"p{i}", "option": "board" if i % 3 else "wait"} for i in range(9)]
    result = tally_json(audit(ballots=ballots, present=12), "plurality")
    ctx = VoteContext(
        (OptionInfo(OptionId("board"), "board"), OptionInfo(OptionId("wait"), "Wait")),
        OptionId("wait"),
        tuple(Cast(DeviceId(b["device"]), Pick(OptionId(b["option"]))) for b in ballots),
        12,
    )
    d = decide(policy_from_spec({"name": "plurality"}), ctx, random.Random(0))
    assert (result["winner"], result["reason"]) == (d.option, d.reason)


SIX = ["a", "b", "c", "d", "e", "f"]


@pytest.mark.parametrize(
    ("text", "policy", "code", "where"),
    [
        ("{", "plurality", "bad-json", "line 1 column 2"),
        ('{"options": NaN}', "plurality", "bad-json", "NaN"),
        (b"\xff\xfe\x00", "plurality", "bad-json", "file"),
        ("[]", "plurality", "schema", "file: must be an object"),
        (audit(ballots=None), "plurality", "schema", "ballots"),
        (audit(extra=1), "plurality", "schema", "extra"),
        (audit(options=[3, "b"]), "plurality", "schema", "options[0]"),
        (audit(options=["a", "a"], default="a"), "plurality", "schema", "options[1]: duplicate"),
        (
            audit(options=["a", {"id": "b", "mood": {"joy": 1}}]),
            "plurality",
            "schema",
            "options[1]",
        ),
        (audit(ballots=[{"device": "x"}]), "plurality", "schema", "ballots[0]: a ballot has"),
        (
            audit(ballots=[{"device": "x", "option": "board", "ranking": ["board"]}]),
            "plurality",
            "schema",
            "ballots[0]",
        ),
        (
            audit(ballots=[{"device": "x", "option": "wait", "weight": -1}]),
            "weighted",
            "schema",
            "ballots[0].weight",
        ),
        (audit(quorum=2), "plurality", "schema", "quorum"),
        (audit(present=True), "plurality", "schema", "present"),
        (audit(seed="7"), "plurality", "schema", "seed"),
        (audit(mood={"valence": 3, "arousal": 0, "engagement": 0}), "mood", "schema", "mood"),
        (audit(options=["wait"]), "plurality", "options-count", "options: 1 given"),
        (audit(options=SIX, default="a", ballots=[]), "plurality", "options-count", "options"),
        (audit(default="stay"), "plurality", "bad-default", "default: 'stay'"),
        (
            audit(ballots=[{"device": "x", "option": "wait"}, {"device": "y", "option": "run"}]),
            "plurality",
            "unknown-option",
            "ballots[1]: unknown option 'run'",
        ),
        (
            audit(ballots=[{"device": "x", "ranking": ["wait", "run"]}]),
            "borda",
            "unknown-option",
            "ballots[0]",
        ),
        (
            audit(ballots=[{"device": "x", "approve": ["run"]}]),
            "approval",
            "unknown-option",
            "ballots[0]",
        ),
        (
            audit(ballots=[{"device": "x", "ranking": ["wait"]}]),
            "plurality",
            "bad-ballot",
            "ballots[0]: the plurality policy does not count ranking ballots",
        ),
        (
            audit(ballots=[{"device": "x", "approve": ["wait"]}]),
            "borda",
            "bad-ballot",
            "ballots[0]",
        ),
        (audit(ballots=[{"device": "x", "ranking": []}]), "borda", "bad-ballot", "ballots[0]"),
        (
            audit(ballots=[{"device": "x", "ranking": ["wait", "wait"]}]),
            "borda",
            "bad-ballot",
            "twice",
        ),
    ],
)
def test_bad_files_are_refused_with_a_code_and_a_place(text, policy, code, where):
    with pytest.raises(BallotFileError) as info:
        tally_json(text, policy)
    assert info.value.code == code
    assert where in info.value.message
    assert isinstance(info.value, ValueError)


def test_unknown_policy_and_bad_params_are_policy_errors():
    with pytest.raises(PolicyError) as info:
        tally_json(audit(), "dictator")
    assert info.value.code == "unknown-policy"
    with pytest.raises(PolicyError) as info:
        tally_json(audit(policy_params={"threshold": 5}), "supermajority")
    assert info.value.code == "bad-policy-params"
    with pytest.raises(PolicyError) as info:
        tally_json(audit(policy_params={"name": "borda"}), "plurality")
    assert info.value.code == "bad-policy-params"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
KEYS = st.sampled_from(["options", "default", "ballots", "quorum", "present", "seed", "mood"])


@given(st.one_of(st.binary(max_size=64), st.text(max_size=64)), st.sampled_from(POLICY_NAMES))
def test_any_bytes_give_a_result_or_a_documented_error(text, policy):
    with contextlib.suppress(BallotFileError, PolicyError):
        tally_json(text, policy)


@given(st.dictionaries(KEYS, JSON), st.sampled_from(POLICY_NAMES))
def test_any_json_object_gives_a_result_or_a_documented_error(data, policy):
    text = audit() if not data else json.dumps(json.loads(audit()) | data)
    try:
        result = tally_json(text, policy)
    except (BallotFileError, PolicyError):
        return
    assert result["winner"] in result["scores"]
