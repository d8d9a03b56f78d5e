"""What crosses Redis between the processes of a cluster, as JSON: a room's inbound items
(pages arriving and leaving, what they said, the camera analysis), and its broadcasts.

Pure: values in, text out and back; `decode_item` and `decode_broadcast` give exactly
what `encode_item` and `encode_broadcast` were given (a test round-trips every shape).
A send's message text is carried as it is: serialised once, by the owner, for every
page of every process.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, assert_never

from mobile_bridge.protocol import Affect, HostCommand, Vote, parse_client_message
from narrative.events import AffectSample, OpenVote, PlayScene, to_json
from narrative.ids import DeviceId, OptionId, SceneId
from narrative.screening import Phase
from server.rooms.audience import Item, PageKey, PageRef, Send, Target, ToDevice, ToPage, ToRoles
from server.rooms.broadcast import Broadcast
from server.rooms.core import RoomSummary
from server.rooms.film_cues import Cut, FilmOrder, Next, Prepare
from server.rooms.inbox import Attach, Detach, Inbound, Incoming, Sensed

StreamItem = Attach | Detach | Incoming | Sensed  # what a process sends a room's owner


class WireError(ValueError):
    """Text that is not what this module writes (another version, or corrupt)."""


# -- items into a room --------------------------------------------------------------------


def encode_item(item: StreamItem) -> str:
    match item:
        case Attach(page=page, resumed=resumed):
            data: dict[str, Any] = {"k": "attach", "page": _page(page), "resumed": resumed}
        case Detach(page=page):
            data = {"k": "detach", "page": _page(page)}
        case Incoming(page=page, message=message, received_at=at, cast_at=cast_at):
            data = {
                "k": "said", "page": _page(page), "message": message.model_dump(mode="json"),
                "at": at, "cast_at": cast_at,
            }  # fmt: skip
        case Sensed(sample=sample):
            data = {"k": "sensed", "sample": dataclasses.asdict(sample)}
        case _:
            assert_never(item)
    return json.dumps(data, separators=(",", ":"))


def decode_item(text: str | bytes) -> Inbound:
    """Raises:
    WireError: not an item this module wrote.
    """
    try:
        data = json.loads(text)
        match data["k"]:
            case "attach":
                return Attach(_page_of(data["page"]), bool(data["resumed"]))
            case "detach":
                return Detach(_page_of(data["page"]))
            case "said":
                message = parse_client_message(json.dumps(data["message"]))
                if not isinstance(message, Vote | Affect | HostCommand):
                    raise ValueError(f"a page does not say {message.type} to its room")
                return Incoming(
                    _page_of(data["page"]),
                    message,
                    float(data["at"]),
                    None if data["cast_at"] is None else float(data["cast_at"]),
                )
            case "sensed":
                sample = data["sample"]
                return Sensed(AffectSample(**{**sample, "device": DeviceId(sample["device"])}))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise WireError(f"not a room item: {exc!r}") from exc
    raise WireError(f"unknown item kind {data.get('k')!r}")


def _page(page: PageRef) -> list[object]:
    return [page.key, page.device, page.role, page.nickname, page.weight]


def _page_of(data: list[Any]) -> PageRef:
    key, device, role, nickname, weight = data
    if role not in ("phone", "screen", "host"):
        raise ValueError(f"role {role!r}")
    return PageRef(PageKey(key), DeviceId(device), role, str(nickname), float(weight))


# -- a room's broadcasts ----------------------------------------------------------------


def encode_broadcast(broadcast: Broadcast) -> str:
    data = {
        "epoch": broadcast.epoch,
        "n": broadcast.n,
        "sends": [[*_target(s.target), s.item.kind, s.item.text] for s in broadcast.sends],
        "film": [_order(order) for order in broadcast.film],
        "attached": list(broadcast.attached),
        "detached": list(broadcast.detached),
        "summary": None if broadcast.summary is None else encode_summary(broadcast.summary),
    }
    return json.dumps(data, separators=(",", ":"))


def decode_broadcast(text: str | bytes) -> Broadcast:
    """Raises:
    WireError: not a broadcast this module wrote.
    """
    try:
        data = json.loads(text)
        return Broadcast(
            epoch=int(data["epoch"]),
            n=int(data["n"]),
            sends=tuple(
                Send(_target_of(t, v), Item(kind, body)) for t, v, kind, body in data["sends"]
            ),
            film=tuple(_order_of(o) for o in data["film"]),
            attached=tuple(PageKey(k) for k in data["attached"]),
            detached=tuple(PageKey(k) for k in data["detached"]),
            summary=None if data["summary"] is None else decode_summary(data["summary"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise WireError(f"not a broadcast: {exc!r}") from exc


def _target(target: Target) -> tuple[str, object]:
    match target:
        case ToPage(key=key):
            return "p", key
        case ToDevice(device=device):
            return "d", device
        case ToRoles(roles=roles):
            return "r", sorted(roles)
        case _:
            assert_never(target)


def _target_of(kind: str, value: Any) -> Target:
    match kind:
        case "p":
            return ToPage(PageKey(value))
        case "d":
            return ToDevice(DeviceId(value))
        case "r":
            return ToRoles(frozenset(value))
    raise ValueError(f"target {kind!r}")


def _order(order: FilmOrder) -> list[Any]:
    match order:
        case Prepare(clips=clips):
            return ["prepare", list(clips)]
        case Next(clip=clip, at=at):
            return ["next", clip, at]
        case Cut(clip=clip, at=at):
            return ["cut", clip, at]
        case _:
            assert_never(order)


def _order_of(data: list[Any]) -> FilmOrder:
    match data:
        case ["prepare", list(clips)]:
            return Prepare(tuple(str(c) for c in clips))
        case ["next", clip, at]:
            return Next(None if clip is None else str(clip), float(at))
        case ["cut", clip, at]:
            return Cut(None if clip is None else str(clip), float(at))
    raise ValueError(f"film order {data!r}")


def _cue_of(data: dict[str, Any]) -> PlayScene | OpenVote:
    """What plays and what vote is open, as a summary carries them."""
    fields = {k: v for k, v in data.items() if k != "type"}
    match data["type"]:
        case "PlayScene":
            return PlayScene(**{**fields, "scene": SceneId(fields["scene"])})
        case "OpenVote":
            return OpenVote(**{**fields, "options": tuple(OptionId(o) for o in fields["options"])})
    raise ValueError(f"cue {data['type']!r}")


def encode_summary(summary: RoomSummary) -> dict[str, object]:
    return {
        "code": summary.code,
        "title": summary.title,
        "mode": summary.mode,
        "policy": summary.policy,
        "phase": summary.phase.value,
        "phones": summary.phones,
        "connected": dict(summary.connected),
        "playing": None if summary.playing is None else to_json(summary.playing),
        "vote": None if summary.vote is None else to_json(summary.vote),
    }


def decode_summary(data: dict[str, Any]) -> RoomSummary:
    """Raises:
    WireError: not a summary this module wrote.
    """
    try:
        playing, vote = data["playing"], data["vote"]
        cue_playing = None if playing is None else _cue_of(playing)
        cue_vote = None if vote is None else _cue_of(vote)
        assert cue_playing is None or isinstance(cue_playing, PlayScene)
        assert cue_vote is None or isinstance(cue_vote, OpenVote)
        return RoomSummary(
            code=str(data["code"]),
            title=str(data["title"]),
            mode=data["mode"],
            policy=str(data["policy"]),
            phase=Phase(data["phase"]),
            phones=int(data["phones"]),
            connected={k: int(v) for k, v in data["connected"].items()},
            playing=cue_playing,
            vote=cue_vote,
        )
    except (KeyError, TypeError, ValueError, AssertionError) as exc:
        raise WireError(f"not a room summary: {exc!r}") from exc


__all__ = [
    "StreamItem",
    "WireError",
    "decode_broadcast",
    "decode_item",
    "decode_summary",
    "encode_broadcast",
    "encode_item",
    "encode_summary",
]
