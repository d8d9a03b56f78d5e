"""Errors at the HTTP edge: every failure becomes ``{"error": code, "message": ...}``.

    ApiError                  raised by routes: a status, a stable code, a message
      (plus StoryError, PolicyError, TokenError from below, mapped by `install`)

Anything else is ``internal``: logged with its traceback, never shown to the client.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from narrative.errors import PolicyError, StoryError
from server.tokens import TokenError

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        self.status, self.code, self.message = status, code, message
        super().__init__(f"{code}: {message}")


def _body(code: str, message: str, **extra: object) -> dict[str, object]:
    return {"error": code, "message": message, **extra}


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(_body(exc.code, exc.message), status_code=exc.status)

    @app.exception_handler(StoryError)
    async def story_error(request: Request, exc: StoryError) -> JSONResponse:
        diagnostics = [d.to_json() for d in exc.diagnostics]
        body = _body("story-invalid", "the story has errors", diagnostics=diagnostics)
        return JSONResponse(body, status_code=422)

    @app.exception_handler(PolicyError)
    async def policy_error(request: Request, exc: PolicyError) -> JSONResponse:
        return JSONResponse(_body(exc.code, exc.message), status_code=422)

    @app.exception_handler(TokenError)
    async def token_error(request: Request, exc: TokenError) -> JSONResponse:
        return JSONResponse(_body("bad-token", str(exc)), status_code=401)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return JSONResponse(_body("bad-request", f"{where}: {first.get('msg')}"), status_code=422)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse(_body("internal", "internal error"), status_code=500)


__all__ = ["ApiError", "install"]
