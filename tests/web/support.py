"""Helpers the browser tests share: rooms made over HTTP, QR codes read off the screen."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image
from playwright.async_api import Page

from tests.server.conftest import LiveServer
from tests.web.conftest import BROWSER_STORY


async def make_room(
    server: LiveServer, policy: str = "plurality", story: str = BROWSER_STORY, **extra: object
) -> dict[str, str]:
    """A room for ``story`` created over the HTTP API: its code, host token and join URL."""
    story_id = await server.story(story)
    body = {"story_id": story_id, "policy": policy, **extra}
    response = await server.http.post("/api/rooms", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def decode_qr(page: Page, selector: str = "#qr") -> str:
    """The text of the QR code the page shows, read from a screenshot of it (zxing-cpp)."""
    png = await page.locator(selector).screenshot()
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert found, f"no QR code found in {selector}"
    return str(found[0].text)


__all__ = ["decode_qr", "make_room"]
