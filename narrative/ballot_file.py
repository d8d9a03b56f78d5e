"""The tally audit file: recount a vote offline with `kinoroom tally --policy NAME FILE.json`.

A host who doubts a result, or a writer choosing a policy, writes the ballots down and
gets the same decision the room would have made, through the same `decide()`::

    {
      "options": ["board", {"id": "wait", "label": "Wait", "mood": {"arousal": "low"}}],
      "default": "wait",
      "ballots": [{"device": "p1", "option": "board"},
                  {"device": "p2", "ranking": ["wait", "board"], "weight": 2}],
      "quorum": 0.5, "present": 12, "seed": 0,
      "policy_params": {"threshold": 0.75},
      "mood": {"valence": 0.1, "arousal": 0.6, "engagement": 0.7}
    }

Unlike a live room, which rejects a bad vote and goes on, an audit file is refused as a
whole at the first problem, with a `BallotFileError` whose code says what kind and whose
message says where (``ballots[3]: ...``): an audit that silently skipped a ballot would
not be an audit. The one thing tolerated is what a room tolerates too: a device voting
again replaces its earlier ballot, and the result lists each replacement in ``notes``.
"""

from __future__ import annotations

import json
import random
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError, model_validator

from narrative.ballots import Approval, Ballot, Cast, Pick, Ranking, ballot_options
from narrative.consensus import OptionInfo, VoteContext, decide, resolve_mood_target
from narrative.errors import BallotFileError, PolicyError
from narrative.ids import ChoiceId, DeviceId, OptionId
from narrative.mood import Mood
from narrative.policies import policy_from_spec

MIN_OPTIONS, MAX_OPTIONS = 2, 5  # DESIGN: 'limited open' votes, as in the story format


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _OptionIn(_Model):
    id: str = Field(min_length=1)
    label: str | None = Field(None, min_length=1)
    mood: dict[
        Literal["valence", "arousal", "engagement"], Literal["low", "mid", "high"] | float
    ] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _plain_id(cls, data: object) -> object:
        return {"id": data} if isinstance(data, str) else data


class _BallotIn(_Model):
    device: str = Field(min_length=1)
    option: str | None = None
    ranking: list[str] | None = None
    approve: list[str] | None = None
    weight: float = Field(1.0, ge=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _one_kind(self) -> _BallotIn:
        kinds = [k for k in ("option", "ranking", "approve") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("a ballot has exactly one of option, ranking or approve")
        return self


class _MoodIn(_Model):
    valence: float = Field(ge=-1, le=1, allow_inf_nan=False)
    arousal: float = Field(ge=-1, le=1, allow_inf_nan=False)
    engagement: float = Field(ge=0, le=1, allow_inf_nan=False)
    viewers: int | None = Field(None, ge=0, description="phones the reading comes from")


class _FileIn(_Model):
    options: list[_OptionIn]
    default: str
    ballots: list[_BallotIn]
    quorum: float = Field(0.0, ge=0, le=1, allow_inf_nan=False)
    present: int | None = Field(None, ge=0, description="phones present (default: devices)")
    policy_params: dict[str, JsonValue] = Field(default_factory=dict)
    seed: int = 0
    mood: _MoodIn | None = None
    choice: str = Field("vote", min_length=1, description="the story node (explore history key)")


def _where(loc: tuple[int | str, ...]) -> str:
    """Pydantic's ('ballots', 3, 'weight') as the reader writes it: 'ballots[3].weight'."""
    text = ""
    for part in loc:
        if part == "[key]":  # pydantic's marker for a bad dict key; the key is already named
            continue
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "file"


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _parse(text: str | bytes) -> _FileIn:
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise BallotFileError(
            f"line {exc.lineno} column {exc.colno}: {exc.msg}", code="bad-json"
        ) from exc
    except (ValueError, RecursionError) as exc:  # undecodable bytes, NaN, absurd nesting
        raise BallotFileError(f"file: {exc}", code="bad-json") from exc
    try:
        return _FileIn.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc, what = first["loc"], first["msg"]
        if first["type"] == "model_type":  # pydantic names our private class otherwise
            id_allowed = len(loc) == 2 and loc[0] == "options"
            what = "must be an option id or an object" if id_allowed else "must be an object"
        elif first["type"] == "value_error":
            what = str(first.get("ctx", {}).get("error", what))
        raise BallotFileError(f"{_where(loc)}: {what}", code="schema") from exc


def _options(parsed: _FileIn) -> tuple[OptionInfo, ...]:
    count = len(parsed.options)
    if not MIN_OPTIONS <= count <= MAX_OPTIONS:
        raise BallotFileError(
            f"options: {count} given; a vote offers {MIN_OPTIONS} to {MAX_OPTIONS}",
            code="options-count",
        )
    infos: list[OptionInfo] = []
    for i, option in enumerate(parsed.options):
        if any(info.id == option.id for info in infos):
            raise BallotFileError(f"options[{i}]: duplicate option id {option.id!r}", code="schema")
        try:
            mood = resolve_mood_target({str(d): v for d, v in option.mood.items()})
        except ValueError as exc:
            raise BallotFileError(f"options[{i}].mood: {exc}", code="schema") from exc
        infos.append(OptionInfo(OptionId(option.id), option.label or option.id, mood))
    return tuple(infos)


def _ballot(i: int, raw: _BallotIn) -> Ballot:
    """The ballot, refusing the shapes no phone can send (empty or repeating lists)."""
    if raw.option is not None:
        return Pick(OptionId(raw.option))
    named = raw.ranking if raw.ranking is not None else raw.approve or []
    kind = "ranking" if raw.ranking is not None else "approve"
    if not named:
        raise BallotFileError(f"ballots[{i}].{kind}: names no option", code="bad-ballot")
    if len(set(named)) != len(named):
        raise BallotFileError(f"ballots[{i}].{kind}: names an option twice", code="bad-ballot")
    options = tuple(OptionId(o) for o in named)
    return Ranking(options) if raw.ranking is not None else Approval(frozenset(options))


def tally_json(text: str | bytes, policy_name: str) -> dict[str, object]:
    """Recount an audit file with a policy, exactly as a room would decide it.

    Args:
        text: the file's content (the caller reads the file).
        policy_name: one of `narrative.policies.POLICY_NAMES`; its parameters come from
            the file's ``policy_params``.

    Returns:
        JSON-ready ``{"winner", "scores": {id: number}, "reason", "policy",
        "turnout": {"voted", "present"}, "notes": [str]}``.

    Raises:
        BallotFileError: ``bad-json``, ``schema``, ``options-count``, ``bad-default``,
            ``bad-ballot`` (empty, repeated, or a kind the policy does not accept) or
            ``unknown-option``; the message names the entry.
        PolicyError: ``unknown-policy`` or ``bad-policy-params``.
    """
    parsed = _parse(text)
    options = _options(parsed)
    ids = frozenset(o.id for o in options)
    if parsed.default not in ids:
        raise BallotFileError(f"default: {parsed.default!r} is not an option", code="bad-default")
    if "name" in parsed.policy_params:
        raise PolicyError(
            "policy_params: the policy name comes from --policy", code="bad-policy-params"
        )
    policy = policy_from_spec({**parsed.policy_params, "name": policy_name})

    casts: list[Cast] = []
    notes: list[str] = []
    last_seen: dict[str, int] = {}
    for i, raw in enumerate(parsed.ballots):
        ballot = _ballot(i, raw)
        if not policy.accepts(ballot):
            kind = type(ballot).__name__.lower()
            message = f"ballots[{i}]: the {policy.name} policy does not count {kind} ballots"
            raise BallotFileError(message, code="bad-ballot")
        for option in ballot_options(ballot):
            if option not in ids:
                message = f"ballots[{i}]: unknown option {option!r}"
                raise BallotFileError(message, code="unknown-option")
        if raw.device in last_seen:
            notes.append(
                f"ballots[{i}] replaces ballots[{last_seen[raw.device]}] of {raw.device!r}"
            )
        last_seen[raw.device] = i
        casts.append(Cast(DeviceId(raw.device), ballot, raw.weight))

    devices = len(last_seen)
    present = devices if parsed.present is None else parsed.present
    if present < devices:
        notes.append(f"present is {present} but {devices} devices voted; counting {devices}")
    mood = None
    if parsed.mood is not None:
        viewers = parsed.mood.viewers if parsed.mood.viewers is not None else max(1, present)
        mood = Mood(parsed.mood.valence, parsed.mood.arousal, parsed.mood.engagement, viewers)
    ctx = VoteContext(
        options=options,
        default=OptionId(parsed.default),
        casts=tuple(casts),
        present=present,
        quorum=parsed.quorum,
        mood=mood,
        choice=ChoiceId(parsed.choice),
    )
    decision = decide(policy, ctx, random.Random(parsed.seed))
    return {
        "winner": decision.option,
        "scores": {o: int(s) if float(s).is_integer() else s for o, s in decision.scores},
        "reason": decision.reason,
        "policy": decision.policy,
        "turnout": {"voted": decision.turnout.voted, "present": decision.turnout.present},
        "notes": notes,
    }


__all__ = ["MAX_OPTIONS", "MIN_OPTIONS", "tally_json"]
