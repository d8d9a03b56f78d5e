"""Room codes: six characters a host can read out and a phone can type without doubt.

The alphabet leaves out 0/O, 1/I/L and U/V look-alikes: 29 characters, 29⁶ ≈ 595 million
codes, so with a join rate limit per address the live codes cannot be enumerated.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "ABCDEFGHJKMNPQRSTWXYZ23456789"
LENGTH = 6
_PATTERN = re.compile(f"^[{ALPHABET}]{{{LENGTH}}}$")


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize(text: str) -> str | None:
    """The code a person meant (case, spaces and dashes forgiven), or None if it cannot be one."""
    code = re.sub(r"[\s-]", "", text).upper()
    return code if _PATTERN.match(code) else None


__all__ = ["ALPHABET", "LENGTH", "new_code", "normalize"]
