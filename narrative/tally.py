"""The running count of one vote: every quantity a policy scores from, kept as ballots come.

One structure for every policy (`narrative.policies`): picks per option, the weight of
those picks, Borda points, approvals, and how many ballots count. A ballot adds to each
quantity it bears on; a phone that changes its mind takes its old ballot back out
first. So the screen's live tally is a read of this count, not a recount of 10,000
ballots four times a second, and the decision at the close reads the very same count
(`narrative.consensus`, "One count").

The count is exact: whole numbers, and picks' weights summed as fractions, so taking a
ballot back out leaves no rounding behind and a count rebuilt from the ballots a
snapshot holds equals the one kept while they arrived. Floats appear only when a policy
reads a score (`RunningCount.score`).

Which ballots reach the count is decided before it (`narrative.consensus.count`, and the
`Screening`, which refuses a ballot its policy does not accept): here a ballot simply
adds what it says about the options being voted on, and ignores the rest.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

from narrative.ballots import Approval, Cast, Pick, Ranking
from narrative.ids import OptionId

Quantity = Literal["picks", "weighted", "points", "approvals"]


@dataclass(slots=True)
class RunningCount:
    """The count over ``options`` (the visible ones, story order) of the casts added."""

    options: tuple[OptionId, ...]
    voted: int = 0
    _sums: dict[Quantity, dict[OptionId, int | Fraction]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for quantity in ("picks", "weighted", "points", "approvals"):
            self._sums[quantity] = dict.fromkeys(self.options, 0)

    @classmethod
    def of(cls, options: Iterable[OptionId], casts: Iterable[Cast] = ()) -> RunningCount:
        count = cls(tuple(options))
        for cast in casts:
            count.add(cast)
        return count

    def add(self, cast: Cast) -> None:
        self._apply(cast, 1)

    def remove(self, cast: Cast) -> None:
        """Take back a cast added before (a phone that changed its mind)."""
        self._apply(cast, -1)

    def score(self, quantity: Quantity) -> dict[OptionId, float]:
        """Every option's ``quantity`` as a float, story order."""
        return {option: float(value) for option, value in self._sums[quantity].items()}

    def _apply(self, cast: Cast, sign: Literal[1, -1]) -> None:
        picks, weighted = self._sums["picks"], self._sums["weighted"]
        points, approvals = self._sums["points"], self._sums["approvals"]
        top = len(self.options) - 1
        match cast.ballot:
            case Pick(option=option) if option in picks:
                picks[option] += sign
                weight = cast.weight
                if math.isfinite(weight) and weight > 0:  # a muted phone weighs 0
                    exact = int(weight) if weight.is_integer() else Fraction(weight)
                    weighted[option] += sign * exact
                points[option] += sign * top  # a pick is a ranking of one
                approvals[option] += sign  # ... and an approval of one
            case Ranking(options=ranked):
                seen = [o for o in dict.fromkeys(ranked) if o in points]  # first place counts
                for place, option in enumerate(seen):
                    points[option] += sign * (top - place)
            case Approval(options=approved):
                for option in approved:
                    if option in approvals:
                        approvals[option] += sign
        self.voted += sign


__all__ = ["Quantity", "RunningCount"]
