"""The running count: what ballots add, what a change of mind takes back, exactly."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from narrative.ballots import Approval, Cast, Pick, Ranking
from narrative.ids import DeviceId, OptionId
from narrative.tally import RunningCount

A, B, C, HIDDEN = (OptionId(x) for x in ("a", "b", "c", "hidden"))


def cast(device: str, ballot, weight: float = 1.0) -> Cast:
    return Cast(DeviceId(device), ballot, weight)


def test_each_ballot_adds_to_what_it_bears_on():
    count = RunningCount.of((A, B, C))
    count.add(cast("p1", Pick(A), weight=2.5))
    count.add(cast("p2", Ranking((C, HIDDEN, A))))  # the hidden option is dropped
    count.add(cast("p3", Approval(frozenset({B, C, HIDDEN}))))
    assert count.score("picks") == {A: 1.0, B: 0.0, C: 0.0}
    assert count.score("weighted") == {A: 2.5, B: 0.0, C: 0.0}
    assert count.score("points") == {A: 2.0 + 1.0, B: 0.0, C: 2.0}
    assert count.score("approvals") == {A: 1.0, B: 1.0, C: 1.0}
    assert count.voted == 3


def test_a_muted_phone_weighs_nothing_but_still_voted():
    count = RunningCount.of((A, B), [cast("p1", Pick(A), weight=0.0)])
    assert count.score("weighted") == {A: 0.0, B: 0.0} and count.voted == 1


ballots = st.one_of(
    st.builds(Pick, st.sampled_from([A, B, C, HIDDEN])),
    st.builds(Ranking, st.lists(st.sampled_from([A, B, C, HIDDEN]), max_size=4).map(tuple)),
    st.builds(Approval, st.frozensets(st.sampled_from([A, B, C, HIDDEN]))),
)
weights = st.floats(0, 10, allow_nan=False) | st.sampled_from([0.1, 0.2, 0.3, 1 / 3])


@given(st.lists(st.tuples(st.integers(0, 5), ballots, weights), max_size=40))
def test_taking_ballots_back_leaves_exactly_the_count_of_the_last_ones(changes):
    """A phone that changes its mind: the count kept as ballots came equals the count of
    the ballots that stand, to the last bit (what a restore rebuilds from a snapshot)."""
    kept = RunningCount.of((A, B, C))
    standing: dict[str, Cast] = {}
    for phone, ballot, weight in changes:
        device = f"p{phone}"
        if device in standing:
            kept.remove(standing[device])
        standing[device] = cast(device, ballot, weight)
        kept.add(standing[device])
    rebuilt = RunningCount.of((A, B, C), standing.values())
    for quantity in ("picks", "weighted", "points", "approvals"):
        assert kept.score(quantity) == rebuilt.score(quantity)  # type: ignore[arg-type]
    assert kept.voted == rebuilt.voted == len(standing)
