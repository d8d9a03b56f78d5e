"""The tests' one unit of waiting: every bound on a wait is a multiple of `SCALE`.

``KINOROOM_TEST_TIMEOUT_SCALE`` (default 1) stretches them all on a slow or busy
machine. A bound only says when to give up on something that should already have
happened; no test waits a fixed time for something to happen (it waits on the event),
and no live test assumes how fast this machine is: windows a test depends on are sized
from what it measured (`tests/server/test_restart.py` times a restart first).
"""

from __future__ import annotations

import os

SCALE = float(os.environ.get("KINOROOM_TEST_TIMEOUT_SCALE", "1"))


def within(seconds: float) -> float:
    """A bound of ``seconds`` on this machine, scaled."""
    return seconds * SCALE


__all__ = ["SCALE", "within"]
