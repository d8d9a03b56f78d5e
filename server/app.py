"""The app factory: `create_app(settings)` builds a Kinoroom server, nothing at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from server import errors
from server.routes import (
    groups,
    models,
    ops,
    pages,
    policies,
    reports,
    rooms,
    sockets,
    stories,
    tls,
    webrtc,
)
from server.routes.studio import router as studio_router
from server.services import Services
from server.settings import Settings


def create_app(
    settings: Settings | None = None, *, on_ready: Callable[[Services], object] | None = None
) -> FastAPI:
    """A Kinoroom app; its lifespan opens the database and restores the rooms.

    Args:
        settings: every option (default: read from ``KINOROOM_*``).
        on_ready: called once the services run (the CLI prints its banner there).
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await Services.start(settings)
        app.state.services = services
        if on_ready is not None:
            on_ready(services)
        try:
            yield
        finally:
            await services.stop()

    app = FastAPI(title="Kinoroom", version="0.1.0", lifespan=lifespan)
    errors.install(app)
    for module in (
        ops, stories, policies, rooms, reports, groups, webrtc, sockets, models, tls, pages
    ):  # fmt: skip
        app.include_router(module.router)
    app.include_router(studio_router)  # the writers' script assistant (/studio)
    app.mount("/static", pages.static_files(), name="static")
    return app


__all__ = ["create_app"]
