"""One sentence a host understands, for each pick. Pure.

A feature reads two ways: what the room leaned in during (``high``/``low`` phrases, by
the sign of its taste weight) and what the film does (``fact``, with its number and
unit: "this film cuts every 2.1 s on average").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Wording:
    high: str  # scenes where the feature is high
    low: str
    fact: Callable[[float], str]  # what the film does, with the number


WORDING: Mapping[str, Wording] = {
    "shot_s": Wording(
        "long, unbroken shots", "fast-cut scenes",
        lambda v: f"this film cuts every {v:.1f} s on average",
    ),
    "motion": Wording(
        "scenes full of movement", "still, quiet pictures",
        lambda v: f"its picture changes by {v:.1f} levels a frame (motion)",
    ),
    "lightness": Wording(
        "bright scenes", "dark scenes",
        lambda v: f"its pictures sit at lightness {v:.0f} of 100",
    ),
    "colourfulness": Wording(
        "vivid colour", "muted colour",
        lambda v: f"its colours have a chroma of {v:.0f}",
    ),
    "loudness_lufs": Wording(
        "loud scenes", "quiet scenes",
        lambda v: f"its sound plays at {v:.0f} LUFS",
    ),
    "tempo_bpm": Wording(
        "fast music", "slow music",
        lambda v: f"its music runs at {v:.0f} beats a minute",
    ),
    "words": Wording(
        "scenes told in words", "scenes told in pictures",
        lambda v: f"{v * 100:.0f} % of it is told in words on the screen",
    ),
    "choices": Wording(
        "films with many votes", "films with few votes",
        lambda v: f"the room votes {v:.0f} times on its director's cut",
    ),
    "endings": Wording(
        "films with many endings", "films with one ending",
        lambda v: f"it has {v:.0f} ending{'s' if round(v) != 1 else ''}",
    ),
    "length_min": Wording(
        "long films", "short films",
        lambda v: f"it runs about {v:.0f} minutes",
    ),
}  # fmt: skip


def taste_reason(feature: str, weight: float, value: float) -> str:
    """ "your room leaned in during fast-cut scenes; this film cuts every 2.1 s on average"."""
    wording = WORDING[feature]
    side = wording.high if weight > 0 else wording.low
    return f"Your room leaned in during {side}; {wording.fact(value)}."


def word_reason(word: str, genre: tuple[str, ...]) -> str:
    kind = f"a {genre[0]}" if genre else "a film"
    return f"Your room stayed with films about {word}; this one is {kind} about it too."


def together_reason(shared: str | None) -> str:
    if shared:
        return f"Groups who liked “{shared}” as your room did stayed with this one to the end."
    return "Groups whose screenings went like yours stayed with this one to the end."


def explore_reason(feature: str | None, value: float, habit: float, genre: tuple[str, ...]) -> str:
    """The exploration pick: how it differs from the habit, and that it is plausible."""
    if feature is None:
        kind = f"a {genre[0]} film" if genre else "a different kind of film"
        return (
            f"Something new: {kind}, unlike what your room has watched; "
            "nothing it felt so far rules it out."
        )
    wording = WORDING[feature]
    side = wording.high if value > habit else wording.low
    return (
        f"Something new: {side}, unlike your usual; {wording.fact(value)}, "
        "and nothing your room felt so far rules it out."
    )


def start_reason(feature: str | None, value: float, genre: tuple[str, ...]) -> str:
    """A pick for a group with no history yet: what kind of film it is."""
    kind = f"A {genre[0]}" if genre else "A film"
    fact = f": {WORDING[feature].fact(value)}" if feature is not None else ""
    return f"{kind} to start with{fact}; after it, the picks follow what your room felt."


def close_reason(feature: str | None, value: float, genre: tuple[str, ...]) -> str:
    """An exploit pick no single feature explains: near what the room liked overall."""
    kind = f"A {genre[0]}" if genre else "A film"
    fact = f" ({WORDING[feature].fact(value)})" if feature is not None else ""
    return f"{kind} close to what your room liked so far{fact}."


__all__ = [
    "WORDING",
    "Wording",
    "close_reason",
    "explore_reason",
    "start_reason",
    "taste_reason",
    "together_reason",
    "word_reason",
]
