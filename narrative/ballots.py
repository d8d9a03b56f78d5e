"""What a phone can cast in a vote: one option, a ranking, or an approval set.

A ballot is a value; whether it fits the vote (the options shown, the room's policy) is
decided by the policy (`Policy.accepts`) and by the `Screening`, never here.
"""

from __future__ import annotations

from dataclasses import dataclass

from narrative.ids import DeviceId, OptionId


@dataclass(frozen=True, slots=True)
class Pick:
    """One option: what most phones send."""

    option: OptionId


@dataclass(frozen=True, slots=True)
class Ranking:
    """Options best first; options left out are ranked last together (Borda gives them 0)."""

    options: tuple[OptionId, ...]


@dataclass(frozen=True, slots=True)
class Approval:
    """Every option the viewer would be happy with."""

    options: frozenset[OptionId]


Ballot = Pick | Ranking | Approval


@dataclass(frozen=True, slots=True)
class Cast:
    """A ballot as counted: who cast it and how much it weighs (1.0 unless the host set it)."""

    device: DeviceId
    ballot: Ballot
    weight: float = 1.0


def ballot_options(ballot: Ballot) -> tuple[OptionId, ...]:
    """Every option a ballot names, in the order it names them."""
    match ballot:
        case Pick(option=option):
            return (option,)
        case Ranking(options=options):
            return options
        case Approval(options=options):
            return tuple(sorted(options))


def ballot_to_json(ballot: Ballot) -> dict[str, object]:
    """The wire and snapshot form: `{"option": ..}`, `{"ranking": [..]}` or `{"approve": [..]}`."""
    match ballot:
        case Pick(option=option):
            return {"option": option}
        case Ranking(options=options):
            return {"ranking": list(options)}
        case Approval(options=options):
            return {"approve": sorted(options)}


def ballot_from_json(data: object) -> Ballot:
    """Inverse of `ballot_to_json`.

    Raises:
        ValueError: the data is not exactly one of the three shapes.
    """
    if not isinstance(data, dict) or len(data) != 1:
        raise ValueError("a ballot is one of {option}, {ranking} or {approve}")
    ((key, value),) = data.items()
    if key == "option" and isinstance(value, str):
        return Pick(OptionId(value))
    if key in ("ranking", "approve") and isinstance(value, list):
        if not all(isinstance(item, str) for item in value):
            raise ValueError(f"{key} must list option ids")
        ids = tuple(OptionId(item) for item in value)
        return Ranking(ids) if key == "ranking" else Approval(frozenset(ids))
    raise ValueError("a ballot is one of {option}, {ranking} or {approve}")


__all__ = [
    "Approval",
    "Ballot",
    "Cast",
    "Pick",
    "Ranking",
    "ballot_from_json",
    "ballot_options",
    "ballot_to_json",
]
