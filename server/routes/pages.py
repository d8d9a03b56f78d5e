"""The pages people open: phone, screen, host, report (static files from `web_client`).

Each page is one HTML file and one ES module; the room code and tokens are read by the
page itself (from its URL and the browser's storage), so these routes only serve files.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from web_client import STATIC_DIR

router = APIRouter(include_in_schema=False)

# Pages change with each release and are small: revalidate instead of caching stale JS.
_HEADERS = {"Cache-Control": "no-cache"}


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC_DIR / f"{name}.html", headers=_HEADERS)


@router.get("/")
async def index() -> FileResponse:
    return _page("index")


@router.get("/phone")
async def phone() -> FileResponse:
    return _page("phone")


@router.get("/j/{code}")
async def join(code: str) -> FileResponse:
    """The QR code's target: the phone page with the code filled in."""
    return _page("phone")


@router.get("/screen/{code}")
async def screen(code: str) -> FileResponse:
    return _page("screen")


@router.get("/host")
async def host() -> FileResponse:
    return _page("host")


@router.get("/rooms/{code}/report")
async def report(code: str) -> FileResponse:
    return _page("report")


def static_files() -> StaticFiles:
    """``/static``: the pages' modules, styles and vendored libraries."""
    return StaticFiles(directory=STATIC_DIR, check_dir=True)


__all__ = ["router", "static_files"]
