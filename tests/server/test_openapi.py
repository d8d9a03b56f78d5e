"""The app's OpenAPI document (/openapi.json, /docs) builds without a warning and lists
the host's fill-in route with its phases."""

from __future__ import annotations

from pathlib import Path

from server.app import create_app
from server.settings import Settings


def test_the_openapi_document_builds_cleanly(tmp_path: Path):
    schema = create_app(Settings(data_dir=tmp_path)).openapi()  # warnings are errors here
    assert "/api/rooms/{code}/fill-ins" in schema["paths"]
    phase = schema["components"]["schemas"]["FillInJob"]["properties"]["phase"]
    assert {e for option in phase["anyOf"] for e in option["enum"]} == {
        "queued", "running", "overdue", "done", "late", "failed", "rejected"
    }  # fmt: skip
