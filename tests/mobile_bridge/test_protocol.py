"""The phone protocol: every message survives the wire, and no input escapes the error codes."""

from __future__ import annotations

import ast
import json
import re
import typing
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from mobile_bridge import protocol
from mobile_bridge.protocol import (
    CLIENT_TYPES,
    ERROR_CODES,
    MAX_MESSAGE_BYTES,
    PROTOCOL_VERSION,
    SERVER_TYPES,
    VOTE_REJECTION_CODES,
    Affect,
    Bye,
    ClientMessage,
    CloseCode,
    DecisionMessage,
    Ended,
    Error,
    Hello,
    HostAck,
    HostCommand,
    MoodMessage,
    OptionView,
    Ping,
    Playout,
    Pong,
    Presence,
    ProtocolError,
    ServerMessage,
    State,
    Tally,
    Turnout,
    Vote,
    VoteAck,
    VoteOpen,
    VoteRejectedMessage,
    Welcome,
    dump,
    json_schemas,
    parse_client_message,
    parse_server_message,
)

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "protocol.md"

VOTE_OPEN = VoteOpen(
    choice="door",
    prompt="Which door does she open?",
    options=[OptionView(id="left", label="The red door"), OptionView(id="right", label="Stairs")],
    ballot="option",
    policy="plurality",
    opens_at=812.25,
    closes_at=827.25,
)
STATE = State(
    phase="playing",
    scene="hallway",
    variant=1,
    media="/media/hallway/v1",
    music_gain_db=-3.5,
    starts_at=790.0,
    ends_at=835.5,
    vote=VOTE_OPEN,
)
SERVER_EXAMPLES: list[BaseModel] = [
    Welcome(
        protocol=PROTOCOL_VERSION,
        room="KX7P2M",
        role="phone",
        device="d-3f9a",
        nickname="Ada",
        title="The Door",
        mode="phones-play",
        now=815.002,
        state=STATE,
        your_vote={"choice": "door", "seq": 3, "option": "left"},
    ),
    Pong(id=7, t0=1044.5, t1=815.01, t2=815.0101),
    STATE,
    State(
        phase="waiting",
        scene=None,
        variant=None,
        media=None,
        music_gain_db=0.0,
        starts_at=None,
        ends_at=None,
    ),
    VOTE_OPEN,
    VoteOpen(
        choice="who",
        prompt="Rank the suspects",
        options=[OptionView(id="a", label="A"), OptionView(id="b", label="B")],
        ballot="ranking",
        policy="instant-runoff",
        opens_at=0.0,
        closes_at=1e-3,
    ),
    VoteAck(choice="door", seq=3, replaced=True),
    VoteRejectedMessage(choice="door", seq=2, code="stale-seq"),
    Tally(choice="door", scores={"left": 12.0, "right": 7.5}, voted=19, present=23),
    DecisionMessage(
        choice="door",
        option="left",
        label="The red door",
        goto="red-room",
        reason="plurality: 12 of 19 votes",
        policy="plurality",
        tally={"left": 12.0, "right": 7.0},
        turnout=Turnout(voted=19, present=23),
        at=827.25,
    ),
    Presence(phones=23, screens=1, hosts=1, cameras=4),
    MoodMessage(valence=0.31, arousal=-0.12, engagement=0.74, viewers=4, participation=0.17),
    HostAck(action="start"),
    Ended(reason="story", at=1900.0, report="/rooms/KX7P2M/report"),
    Ended(reason="host", at=12.5),
    Error(code="rate-limited", message="at most 20 messages per second"),
    Bye(reason="server restarting", reconnect=True),
]
CLIENT_EXAMPLES: list[BaseModel] = [
    Hello(protocol=PROTOCOL_VERSION, role="phone", token="eyJk.abc", client="Mozilla/5.0"),
    Hello(protocol=PROTOCOL_VERSION, role="host", token="h"),
    Ping(id=7, t0=1044.5),
    Vote(choice="door", seq=3, option="left"),
    Vote(choice="who", seq=4, ranking=["b", "a"]),
    Vote(choice="where", seq=5, approve=["park"]),
    Affect(valence=0.4, arousal=-0.2, engagement=0.9, heart_rate_bpm=72.5, expression="happy"),
    Affect(valence=-1, arousal=1, engagement=0),
    Playout(offset_ms=142.5, frames=60),
    HostCommand(action="start"),
    HostCommand(action="force", option="left"),
    HostCommand(action="show_tally", show=True),
]


def union_types(union: object) -> list[str]:
    members = typing.get_args(typing.get_args(union)[0])
    return [member.model_fields["type"].default for member in members]


def test_example_lists_cover_every_type():
    assert {m.type for m in SERVER_EXAMPLES} == set(SERVER_TYPES)
    assert {m.type for m in CLIENT_EXAMPLES} == set(CLIENT_TYPES)


@pytest.mark.parametrize("message", SERVER_EXAMPLES, ids=lambda m: m.type)
def test_server_messages_round_trip(message):
    wire = dump(message)
    assert json.loads(wire)["type"] == message.type
    assert parse_server_message(wire) == message
    assert parse_server_message(wire.encode()) == message


@pytest.mark.parametrize("message", CLIENT_EXAMPLES, ids=lambda m: m.type)
def test_client_messages_round_trip(message):
    assert parse_client_message(dump(message)) == message


finite = st.floats(allow_nan=False, allow_infinity=False)


@given(st.integers(0, 2**53), finite, finite, finite)
def test_clock_times_survive_the_wire_exactly(ping_id, t0, t1, t2):
    pong = Pong(id=ping_id, t0=t0, t1=t1, t2=t2)
    assert parse_server_message(dump(pong)) == pong
    ping = Ping(id=ping_id, t0=t0)
    assert parse_client_message(dump(ping)) == ping


def test_type_lists_match_the_unions():
    assert union_types(ClientMessage) == list(CLIENT_TYPES)
    assert union_types(ServerMessage) == list(SERVER_TYPES)
    assert len(set(CLIENT_TYPES + SERVER_TYPES)) == len(CLIENT_TYPES) + len(SERVER_TYPES)


def test_rejection_codes_match_the_message_literal():
    literal = typing.get_args(VoteRejectedMessage.model_fields["code"].annotation)
    assert literal == VOTE_REJECTION_CODES


def test_codes_are_unique_and_kebab_case():
    for codes in (ERROR_CODES, VOTE_REJECTION_CODES):
        assert len(set(codes)) == len(codes)
        assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", code) for code in codes)
    ours = [code for code in CloseCode if code >= 4000]
    assert all(4000 <= code <= 4999 for code in ours)


def test_json_schemas_are_json_and_name_every_type():
    schemas = json_schemas()
    text = json.dumps(schemas)
    assert json.loads(text) == schemas
    assert schemas["protocol"] == PROTOCOL_VERSION
    client = schemas["client_to_server"]["discriminator"]["mapping"]
    server = schemas["server_to_client"]["discriminator"]["mapping"]
    assert set(client) == set(CLIENT_TYPES)
    assert set(server) == set(SERVER_TYPES)


# -- bad input --------------------------------------------------------------------------


def code_of(data: str | bytes) -> str:
    with pytest.raises(ProtocolError) as caught:
        parse_client_message(data)
    return caught.value.code


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ("", "bad-json"),
        ("{", "bad-json"),
        (b"\xff\xfe\xfa", "bad-json"),
        ("[1, 2]", "bad-json"),
        ('"hello"', "bad-json"),
        ("{}", "unknown-type"),
        ('{"type": "welcome"}', "unknown-type"),  # a server message is not the page's to send
        ('{"type": ["hello"]}', "unknown-type"),
        ('{"type": "ping", "id": -1, "t0": 0}', "bad-message"),
        ('{"type": "ping", "id": 1, "t0": NaN}', "bad-message"),
        ('{"type": "ping", "id": 1, "t0": 0, "extra": 1}', "bad-message"),
        ('{"type": "hello", "protocol": 1, "role": "admin", "token": "t"}', "bad-message"),
        ('{"type": "hello", "protocol": 1, "role": "phone", "token": ""}', "bad-message"),
        ('{"type": "affect", "valence": 2, "arousal": 0, "engagement": 0}', "bad-message"),
        ('{"type": "host", "action": "self-destruct"}', "bad-message"),
    ],
)
def test_bad_frames_get_their_code(data, code):
    assert code_of(data) == code


def test_bad_message_says_where():
    with pytest.raises(ProtocolError, match="vote: seq"):
        parse_client_message('{"type": "vote", "choice": "door", "seq": "x", "option": "a"}')


@pytest.mark.parametrize(
    "ballot",
    [
        {},
        {"option": "left", "ranking": ["left"]},
        {"option": "left", "approve": ["left"]},
        {"ranking": ["a"], "approve": ["a"]},
    ],
)
def test_vote_needs_exactly_one_ballot_kind(ballot):
    frame = json.dumps({"type": "vote", "choice": "door", "seq": 1, **ballot})
    with pytest.raises(ProtocolError, match="exactly one") as caught:
        parse_client_message(frame)
    assert caught.value.code == "bad-message"


def test_oversize_frames_are_too_large_before_parsing():
    vote = dump(Vote(choice="door", seq=1, option="left"))
    padded = vote[:-1] + " " * (MAX_MESSAGE_BYTES - len(vote) + 1) + "}"
    assert len(padded) == MAX_MESSAGE_BYTES + 1
    assert code_of(padded) == "too-large"
    assert code_of(padded.encode()) == "too-large"
    assert code_of("x" * 1_000_000) == "too-large"
    assert parse_client_message(padded[:-2] + "}") == Vote(choice="door", seq=1, option="left")


def test_error_message_from_protocol_error():
    error = ProtocolError("too-large", "messages are at most 4096 bytes")
    assert error.to_message() == Error(code="too-large", message="messages are at most 4096 bytes")
    assert str(error) == "too-large: messages are at most 4096 bytes"


def test_deeply_nested_json_is_bad_json():
    frame = '{"type": "vote", "choice": "c", "seq": 1, "option": ' + "[" * 1900 + "]" * 1900 + "}"
    assert len(frame) < MAX_MESSAGE_BYTES
    assert code_of(frame) == "bad-json"


def test_size_limit_counts_utf8_bytes_of_text_frames():
    frame = '{"type": "ping", "id": 1, "t0": 0, "pad": "' + "é" * 2100 + '"}'
    assert len(frame) < MAX_MESSAGE_BYTES < len(frame.encode())
    assert code_of(frame) == "too-large"


# -- fuzz: any input is a message or a documented code ----------------------------------

FIELDS = sorted(
    {
        name
        for member in typing.get_args(typing.get_args(ClientMessage)[0])
        for name in member.model_fields
    }
    - {"type"}
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["phone", "host", "left", "start", "force"]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
frames = st.fixed_dictionaries(
    {"type": st.sampled_from([*CLIENT_TYPES, "pong", "", "HELLO"])},
    optional=dict.fromkeys(FIELDS, json_values),
).map(json.dumps)
ids = st.text(max_size=70) | st.sampled_from(["left", "right", "door"])
unit = st.floats(-1.5, 1.5) | st.floats()
ballots = st.lists(ids, max_size=7)
PLAUSIBLE = {  # (required, optional): near-valid fields, so the success path is fuzzed too
    "hello": (
        {
            "protocol": st.sampled_from([1, 2, 0]),
            "role": st.sampled_from(["phone", "screen", "host", "judge"]),
            "token": st.text(max_size=600),
        },
        {"client": st.text(max_size=220) | st.none()},
    ),
    "ping": ({"id": st.integers(-2, 2**64), "t0": st.floats()}, {}),
    "vote": (
        {"choice": ids, "seq": st.integers(-2, 2**32)},
        {"option": ids | st.none(), "ranking": ballots, "approve": ballots},
    ),
    "affect": (
        {"valence": unit, "arousal": unit, "engagement": unit},
        {"heart_rate_bpm": st.floats(0, 300) | st.none(), "expression": st.text(max_size=40)},
    ),
    "host": (
        {"action": st.sampled_from(["start", "skip", "force", "end", "show_tally", "dance"])},
        {"option": ids | st.none(), "show": st.booleans() | st.none()},
    ),
    "playout": (
        {"offset_ms": st.floats(-70_000, 70_000) | st.floats(), "frames": st.integers(-2, 2**20)},
        {},
    ),
}
near_frames = (
    st.sampled_from(CLIENT_TYPES)
    .flatmap(
        lambda kind: st.fixed_dictionaries(
            {"type": st.just(kind), **PLAUSIBLE[kind][0]},
            optional={**PLAUSIBLE[kind][1], "mood": json_values},
        )
    )
    .map(json.dumps)
)


def accepts_or_rejects(data: str | bytes) -> None:
    try:
        message = parse_client_message(data)
    except ProtocolError as exc:
        refused = exc
    else:
        assert message.type in CLIENT_TYPES
        assert parse_client_message(dump(message)) == message
        return
    assert refused.code in ERROR_CODES
    assert refused.to_message().code == refused.code


@given(st.binary(max_size=300) | st.text(max_size=300))
def test_any_bytes_or_text_parse_or_get_a_code(data):
    accepts_or_rejects(data)


@given(frames | near_frames)
def test_any_json_object_parses_or_gets_a_code(frame):
    accepts_or_rejects(frame)
    accepts_or_rejects(frame.encode())


@given(
    st.text(min_size=1, max_size=64),
    st.integers(0, 2**31),
    st.sampled_from(["option", "ranking", "approve"]),
)
def test_every_well_formed_vote_parses(choice, seq, kind):
    ballot: object = "a" if kind == "option" else ["a", "b"]
    vote = parse_client_message(
        json.dumps({"type": "vote", "choice": choice, "seq": seq, kind: ballot})
    )
    assert isinstance(vote, Vote) and (vote.choice, vote.seq) == (choice, seq)


# -- the documentation stays true -------------------------------------------------------


def doc_examples() -> list[dict[str, object]]:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    return [json.loads(block) for block in blocks]


def test_every_doc_example_is_a_valid_message_and_every_type_has_one():
    seen = set()
    for example in doc_examples():
        text = json.dumps(example)
        if example["type"] in CLIENT_TYPES:
            parse_client_message(text)
        else:
            parse_server_message(text)
        seen.add(example["type"])
    assert seen == set(CLIENT_TYPES) | set(SERVER_TYPES)


def test_doc_tables_list_every_code():
    text = DOC.read_text(encoding="utf-8")
    for code in ERROR_CODES + VOTE_REJECTION_CODES:
        assert f"| `{code}` |" in text, code
    for close in CloseCode:
        assert f"| {close.value} |" in text, close


def test_protocol_module_is_pure():
    tree = ast.parse(Path(protocol.__file__).read_text(encoding="utf-8"))
    roots = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    roots |= {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert roots <= {"__future__", "enum", "json", "typing", "pydantic"}
