"""Static phone, screen, host and studio pages (plain ES modules, no build step) and
vendored front-end libraries; this module only locates the files.

Imports nothing from Kinoroom. The pages arrive with the phone, screen and host pages issue.
"""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).parent

__all__ = ["STATIC_DIR"]
