"""Room codes and signed seat tokens."""

from __future__ import annotations

import pytest

from server.roomcode import ALPHABET, LENGTH, new_code, normalize
from server.tokens import Claims, TokenError, Tokens


def test_codes_use_only_unambiguous_characters():
    for _ in range(200):
        code = new_code()
        assert len(code) == LENGTH
        assert set(code) <= set(ALPHABET)
    assert not set("01OILUV") & set(ALPHABET)


@pytest.mark.parametrize(("typed", "meant"), [("ab-cd 23", "ABCD23"), ("ABCD23", "ABCD23")])
def test_normalize_forgives_case_spaces_and_dashes(typed, meant):
    assert normalize(typed) == meant


@pytest.mark.parametrize("typed", ["ABC", "ABCD2O", "ABCD234", ""])
def test_normalize_refuses_what_cannot_be_a_code(typed):
    assert normalize(typed) is None


def test_tokens_round_trip_and_refuse_tampering_and_other_rooms():
    tokens = Tokens(b"secret")
    token = tokens.issue(Claims("ABCD23", "p-1", "phone"))
    assert tokens.verify(token, "ABCD23") == Claims("ABCD23", "p-1", "phone")
    with pytest.raises(TokenError, match="another room"):
        tokens.verify(token, "ZZZZ22")
    # Change a character inside the signature (the last one may only carry padding bits).
    i = len(token) - 10
    tampered = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
    with pytest.raises(TokenError):
        tokens.verify(tampered, "ABCD23")
    with pytest.raises(TokenError):
        Tokens(b"other secret").verify(token, "ABCD23")
