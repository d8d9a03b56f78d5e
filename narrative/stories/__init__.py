"""Stories bundled with Kinoroom; ``DEMO`` is the one `make run` screens."""

from __future__ import annotations

from pathlib import Path

DEMO = Path(__file__).with_name("demo.yaml")

__all__ = ["DEMO"]
