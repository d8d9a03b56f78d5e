"""The pages speak the Python protocol: same message types, close codes, error codes."""

from __future__ import annotations

import re

from mobile_bridge.protocol import (
    CLIENT_TYPES,
    SERVER_TYPES,
    VOTE_REJECTION_CODES,
    CloseCode,
)
from web_client import STATIC_DIR

PROTOCOL_JS = (STATIC_DIR / "protocol.js").read_text()
ERRORS_JS = (STATIC_DIR / "errors.js").read_text()

# Codes a person can cause by what they do; each must have a friendly text with a next step.
USER_CODES = {
    "room-not-found", "room-full", "room-ended", "rate-limited", "bad-token",
    "story-invalid", "forbidden", "network", "lost",
}  # fmt: skip


def js_strings(name: str) -> list[str]:
    match = re.search(rf"export const {name} = \[(.*?)\];", PROTOCOL_JS, re.S)
    assert match, name
    return re.findall(r'"([^"]+)"', match.group(1))


def test_message_types_match_the_python_protocol():
    assert js_strings("CLIENT_TYPES") == list(CLIENT_TYPES)
    assert js_strings("SERVER_TYPES") == list(SERVER_TYPES)


def test_close_codes_match():
    block = re.search(r"export const CLOSE = \{(.*?)\};", PROTOCOL_JS, re.S)
    assert block
    codes = {name: int(value) for name, value in re.findall(r"(\w+): (\d+)", block.group(1))}
    assert codes == {code.name: code.value for code in CloseCode}


def test_every_code_a_person_can_meet_is_explained():
    explained = set(re.findall(r'^\s*"?([\w-]+)"?: \[', ERRORS_JS, re.M))
    missing = (USER_CODES | set(VOTE_REJECTION_CODES)) - explained
    assert not missing, f"errors.js has no friendly text for {sorted(missing)}"
