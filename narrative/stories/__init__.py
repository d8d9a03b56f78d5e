"""Stories bundled with Kinoroom; ``DEMO`` is the one `make run` screens, and every one of
``BUNDLED`` is offered on the host page too (``LAMPLIGHTER``: an ink story that needs no
footage)."""

from __future__ import annotations

from pathlib import Path

DEMO = Path(__file__).with_name("demo.yaml")
LAMPLIGHTER = Path(__file__).with_name("lamplighter.ink.json")
BUNDLED = (LAMPLIGHTER,)

__all__ = ["BUNDLED", "DEMO", "LAMPLIGHTER"]
