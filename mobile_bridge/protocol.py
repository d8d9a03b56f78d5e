"""The phone protocol: every message a phone, screen or host page exchanges with a room.

One WebSocket per page, at ``/ws/rooms/{code}``; text frames of JSON objects with a
``type``. The first message from the page must be ``hello`` (protocol version, role and
the token the join or create call returned); the server answers ``welcome`` with the
room's state and room-clock time, then streams ``state``, ``vote_open``, ``tally``,
``decision``, ``presence`` and ``ended`` as the screening goes. Times are room-clock
seconds (floats); a page converts them with the offset its ``ping``/``pong`` exchange
measures (`mobile_bridge.clock`). ``docs/protocol.md`` walks through an exchange.

Every refusal has a stable code (`ERROR_CODES`, `VOTE_REJECTION_CODES`); a message the
server cannot parse is answered with ``error`` and the socket stays open unless the
fault is the socket's own (too large, too fast, bad token), where it is closed with a
close code from `CloseCode` and a reason.
"""

from __future__ import annotations

import enum
import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 4096  # control messages only: the film and the camera go over WebRTC

Role = Literal["phone", "screen", "host"]
BallotKind = Literal["option", "ranking", "approve"]
Identifier = Annotated[str, Field(min_length=1, max_length=64)]
Seconds = Annotated[float, Field(allow_inf_nan=False)]

# Codes of `error` messages (and of HTTP error bodies), documented in the README.
ERROR_CODES = (
    "bad-json",  # not JSON, or not a JSON object
    "unknown-type",  # `type` missing or not a message this role may send
    "bad-message",  # right type, wrong fields
    "protocol-version",  # hello with a version this server does not speak
    "not-hello",  # the first message was not hello
    "too-large",  # over MAX_MESSAGE_BYTES
    "rate-limited",  # more messages per second than allowed
    "bad-token",  # token tampered, expired or of another room
    "room-not-found",
    "forbidden",  # the role may not do that (a phone sending host commands)
    "host-rejected",  # a host command the screening refused; message says why
    "slow-consumer",  # the page did not read its messages fast enough
    "shutting-down",
    "internal",  # our bug; logged with its traceback, never sent
)
VOTE_REJECTION_CODES = (
    "not-open",
    "window-closed",
    "unknown-option",
    "stale-seq",
    "bad-ballot",
    "unknown-device",
)


class CloseCode(enum.IntEnum):
    """WebSocket close codes; 4000–4999 are ours (RFC 6455 §7.4.2)."""

    NORMAL = 1000
    GOING_AWAY = 1001  # the server shuts down; reconnect with the same token
    INVALID_DATA = 1007  # a text frame that is not UTF-8 (the transport closes it)
    POLICY = 1008  # bad Origin
    TOO_LARGE = 1009
    RESTART = 1012  # the server restarts; reconnect with the same token
    BAD_TOKEN = 4001
    ROOM_NOT_FOUND = 4004
    PROTOCOL_VERSION = 4005
    RATE_LIMITED = 4008
    SLOW_CONSUMER = 4009  # reconnect: the seat and the live vote are kept


# Each message's validator is built on its first use, not at import: 31 models are a
# tenth of the server's start-up otherwise (`bench/startup.py`).
DEFERRED = ConfigDict(defer_build=True)


class _Message(BaseModel):
    # strict: "seq": "5" or "protocol": true is a client bug to report, not to guess at.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, defer_build=True)


# -- page → server -----------------------------------------------------------------------


class Hello(_Message):
    type: Literal["hello"] = "hello"
    protocol: int
    role: Role
    token: str = Field(min_length=1, max_length=512)
    client: str | None = Field(None, max_length=200, description="user agent, for logs")
    t0: Seconds | None = Field(None, description="the page's clock when sent, as a ping's t0")


class Ping(_Message):
    """Clock sync: ``t0`` is the page's clock when sent, in seconds."""

    type: Literal["ping"] = "ping"
    id: int = Field(ge=0)
    t0: Seconds


class Vote(_Message):
    """Exactly one of ``option``, ``ranking``, ``approve``; a later ``seq`` replaces.

    ``cast_t`` is the page's clock when its owner cast the vote, on the clock its pings'
    ``t0`` use: a vote cast before the close that the network delivers just after it
    still counts (the server maps it to the room clock with the latest offset the page's
    own pings allow, and never grants more than its grace).
    """

    type: Literal["vote"] = "vote"
    choice: Identifier
    seq: int = Field(ge=0, le=2**31)
    option: Identifier | None = None
    ranking: list[Identifier] | None = Field(None, max_length=5)
    approve: list[Identifier] | None = Field(None, max_length=5)
    cast_t: Seconds | None = Field(None, description="the page's clock when cast (as ping t0)")


class Affect(_Message):
    """Numbers only, never a frame: what a phone that analyses its own camera sends."""

    type: Literal["affect"] = "affect"
    valence: float = Field(ge=-1, le=1, allow_inf_nan=False)
    arousal: float = Field(ge=-1, le=1, allow_inf_nan=False)
    engagement: float = Field(ge=0, le=1, allow_inf_nan=False)
    heart_rate_bpm: float | None = Field(None, ge=30, le=220, allow_inf_nan=False)
    expression: str | None = Field(None, max_length=32)


class Playout(_Message):
    """How late a page shows the film: the median of its last frames, every ~2 s.

    ``offset_ms``: when frames were shown minus when they were due on the room clock
    (the server sends each packet when due), in milliseconds; ``frames``: how many
    frames the median is over. Only phone and screen pages that play the film send it.
    """

    type: Literal["playout"] = "playout"
    offset_ms: float = Field(ge=-60_000, le=60_000, allow_inf_nan=False)
    frames: int = Field(ge=1, le=100_000)


HostAction = Literal["start", "skip", "force", "end", "show_tally"]


class HostCommand(_Message):
    """A host's order; ``id`` (optional) comes back in the ``host_ack`` or ``error``."""

    type: Literal["host"] = "host"
    action: HostAction
    id: int | None = Field(None, ge=0)
    option: Identifier | None = Field(None, description="with force: the option to play")
    show: bool | None = Field(None, description="with show_tally: show live tallies to phones")


ClientMessage = Annotated[
    Hello | Ping | Vote | Affect | HostCommand | Playout, Field(discriminator="type")
]

# -- server → page -----------------------------------------------------------------------


class OptionView(_Message):
    id: str
    label: str


class VoteOpen(_Message):
    type: Literal["vote_open"] = "vote_open"
    choice: str
    prompt: str
    options: list[OptionView]
    ballot: BallotKind
    policy: str
    opens_at: Seconds
    closes_at: Seconds


class GeneratedView(_Message):
    """The playing clip was generated (a fill-in): pages label it "AI-generated"."""

    asset: str = Field(description="the fill-in job; its provenance is in the room's report")
    backend: Literal["montage", "text", "diffusion"]


class TextView(_Message):
    """Words the scene shows (a text scene of a Twine or ink story, or a caption): pages
    draw them in the story's colours, over the film when a clip plays, else on their own."""

    body: str = Field(description="the words; a line break is a new paragraph")
    background: str = Field(description="the story's text background, #rrggbb")
    colour: str = Field(description="the story's text colour, #rrggbb")


class State(_Message):
    """Where the film is: which clip plays since when (room clock), and any open vote.

    ``media`` null while ``phase`` is ``playing``: a text scene, no clip (``text`` says what
    to show instead)."""

    type: Literal["state"] = "state"
    phase: Literal["waiting", "playing", "ended"]
    scene: str | None
    variant: int | None
    media: str | None
    music_gain_db: float
    starts_at: Seconds | None
    ends_at: Seconds | None
    vote: VoteOpen | None = None
    generated: GeneratedView | None = None
    text: TextView | None = None


class LiveVote(_Message):
    """The device's counted ballot in the open vote, given back after a reconnect."""

    choice: str
    seq: int
    option: str | None = None
    ranking: list[str] | None = None
    approve: list[str] | None = None


class Welcome(_Message):
    type: Literal["welcome"] = "welcome"
    protocol: int
    room: str
    role: Role
    device: str
    nickname: str
    title: str
    mode: Literal["phones-play", "big-screen"]
    now: Seconds = Field(description="room clock when sent")
    state: State
    your_vote: LiveVote | None = Field(None, description="the live vote, after a reconnect")


class Pong(_Message):
    """``t1``: room clock when the ping arrived; ``t2``: when the pong left."""

    type: Literal["pong"] = "pong"
    id: int
    t0: Seconds
    t1: Seconds
    t2: Seconds


class VoteAck(_Message):
    """Sent only once the vote is committed to the database: an acked vote is never lost."""

    type: Literal["vote_ack"] = "vote_ack"
    choice: str
    seq: int
    replaced: bool


class VoteRejectedMessage(_Message):
    type: Literal["vote_rejected"] = "vote_rejected"
    choice: str
    seq: int
    code: Literal[
        "not-open", "window-closed", "unknown-option", "stale-seq", "bad-ballot", "unknown-device"
    ]


class Tally(_Message):
    """Live counts; coalesced (at most a few per second), so only the latest matters."""

    type: Literal["tally"] = "tally"
    choice: str
    scores: dict[str, float]
    voted: int
    present: int


class Turnout(_Message):
    voted: int
    present: int


class DecisionMessage(_Message):
    type: Literal["decision"] = "decision"
    choice: str
    option: str
    label: str
    goto: str
    reason: str
    policy: str
    tally: dict[str, float]
    turnout: Turnout
    at: Seconds


class Presence(_Message):
    type: Literal["presence"] = "presence"
    phones: int
    screens: int
    hosts: int
    cameras: int


class MoodMessage(_Message):
    """The room's mood meter, for screens and hosts: the trimmed mean of each camera
    phone's latest fresh sample, at two decimals; coalesced, sent only when it changes."""

    type: Literal["mood"] = "mood"
    valence: float = Field(ge=-1, le=1, description="−1 unpleasant … +1 pleasant")
    arousal: float = Field(ge=-1, le=1, description="−1 calm … +1 excited")
    engagement: float = Field(ge=0, le=1, description="0 elsewhere … 1 riveted")
    viewers: int = Field(ge=0, description="phones whose camera counts now")
    participation: float = Field(ge=0, le=1, description="viewers / phones present")


class HostAck(_Message):
    type: Literal["host_ack"] = "host_ack"
    action: str
    id: int | None = None


class Ended(_Message):
    type: Literal["ended"] = "ended"
    reason: Literal["story", "host"]
    at: Seconds
    report: str | None = Field(None, description="URL of the screening report (host only)")


class Error(_Message):
    type: Literal["error"] = "error"
    code: str
    message: str
    ref: int | None = Field(None, description="the id of the host command it answers")


class Bye(_Message):
    """The last message before the server closes the socket; ``reconnect`` says whether to."""

    type: Literal["bye"] = "bye"
    reason: str
    reconnect: bool


ServerMessage = Annotated[
    Welcome
    | Pong
    | State
    | VoteOpen
    | VoteAck
    | VoteRejectedMessage
    | Tally
    | DecisionMessage
    | Presence
    | MoodMessage
    | HostAck
    | Ended
    | Error
    | Bye,
    Field(discriminator="type"),
]

CLIENT_ADAPTER: TypeAdapter[Hello | Ping | Vote | Affect | HostCommand | Playout] = TypeAdapter(
    ClientMessage, config=DEFERRED
)
SERVER_ADAPTER: TypeAdapter[
    Welcome | Pong | State | VoteOpen | VoteAck | VoteRejectedMessage | Tally
    | DecisionMessage | Presence | MoodMessage | HostAck | Ended | Error | Bye
] = TypeAdapter(ServerMessage, config=DEFERRED)  # fmt: skip

CLIENT_TYPES = ("hello", "ping", "vote", "affect", "host", "playout")
SERVER_TYPES = (
    "welcome", "pong", "state", "vote_open", "vote_ack", "vote_rejected", "tally",
    "decision", "presence", "mood", "host_ack", "ended", "error", "bye",
)  # fmt: skip


class ProtocolError(ValueError):
    """A page sent something unusable; ``code`` is one of `ERROR_CODES`."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")

    def to_message(self) -> Error:
        return Error(code=self.code, message=self.message)


def parse_client_message(
    data: str | bytes,
) -> Hello | Ping | Vote | Affect | HostCommand | Playout:
    """Parse one frame from a page.

    Raises:
        ProtocolError: ``too-large``, ``bad-json``, ``unknown-type`` or ``bad-message``.
    """
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError("too-large", f"messages are at most {MAX_MESSAGE_BYTES} bytes")
    try:
        raw = json.loads(data)
    except RecursionError:  # "[[[[…" nests deeper than json can follow, well under 4 KiB
        raise ProtocolError("bad-json", "JSON nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError("bad-json", f"not JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise ProtocolError("bad-json", "a message is a JSON object")
    kind = raw.get("type")
    if kind not in CLIENT_TYPES:
        raise ProtocolError("unknown-type", f"unknown message type {kind!r}")
    try:
        message = CLIENT_ADAPTER.validate_python(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"][1:]) or kind
        raise ProtocolError("bad-message", f"{kind}: {where}: {first['msg']}") from None
    if isinstance(message, Vote):
        kinds = [k for k in ("option", "ranking", "approve") if getattr(message, k) is not None]
        if len(kinds) != 1:
            raise ProtocolError("bad-message", "vote: give exactly one of option, ranking, approve")
    return message


def dump(message: BaseModel) -> str:
    """The wire form of a server message."""
    return message.model_dump_json(exclude_none=False)


def parse_server_message(data: str | bytes) -> (
    Welcome | Pong | State | VoteOpen | VoteAck | VoteRejectedMessage | Tally
    | DecisionMessage | Presence | MoodMessage | HostAck | Ended | Error | Bye
):  # fmt: skip
    """Parse one frame from the server (the Python phone client's side).

    Raises:
        pydantic.ValidationError: not a server message.
    """
    return SERVER_ADAPTER.validate_json(data)


def json_schemas() -> dict[str, object]:
    """JSON Schema of both directions (``kinoroom protocol schema``)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "protocol": PROTOCOL_VERSION,
        "client_to_server": CLIENT_ADAPTER.json_schema(),
        "server_to_client": SERVER_ADAPTER.json_schema(),
    }


__all__ = [
    "ERROR_CODES",
    "MAX_MESSAGE_BYTES",
    "PROTOCOL_VERSION",
    "VOTE_REJECTION_CODES",
    "Affect",
    "BallotKind",
    "Bye",
    "ClientMessage",
    "CloseCode",
    "DecisionMessage",
    "Ended",
    "Error",
    "Hello",
    "HostAck",
    "HostAction",
    "HostCommand",
    "LiveVote",
    "MoodMessage",
    "OptionView",
    "Ping",
    "Playout",
    "Pong",
    "Presence",
    "ProtocolError",
    "ServerMessage",
    "State",
    "Tally",
    "Turnout",
    "Vote",
    "VoteAck",
    "VoteOpen",
    "VoteRejectedMessage",
    "Welcome",
    "dump",
    "json_schemas",
    "parse_client_message",
    "parse_server_message",
]
