"""Joining a room over HTTP: the step before a phone opens its WebSocket.

``POST {http_base}/api/rooms/{code}/join`` with ``{"nickname": …}`` answers
``{"device": …, "token": …}``; the token is what `PhoneClient` says in ``hello``, and
what it says again after every reconnect to get its seat back. Environment proxy
settings are ignored, as by `PhoneClient`: bots and load tests talk to the server
directly.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

import httpx

from mobile_bridge.reconnect import ClientError


@dataclass(frozen=True, slots=True)
class JoinResult:
    device: str
    token: str


async def join_room(
    http_base: str,
    code: str,
    nickname: str,
    *,
    timeout_s: float = 10.0,
    http: httpx.AsyncClient | None = None,
) -> JoinResult:
    """Join room ``code`` as ``nickname``.

    Args:
        http_base: ``http(s)://host:port`` of the server.
        http: a client to reuse (a load test joins thousands); a fresh one otherwise.

    Raises:
        ClientError: the server's code, from the error body's ``error`` or ``code``
            field (``room-not-found``, ``rate-limited``…; ``http-<status>`` without
            one); ``unreachable``; ``bad-message`` for a success without device and token.
    """
    url = f"{http_base.rstrip('/')}/api/rooms/{urllib.parse.quote(code, safe='')}/join"
    try:
        if http is None:
            async with httpx.AsyncClient(timeout=timeout_s, trust_env=False) as owned:
                response = await owned.post(url, json={"nickname": nickname})
        else:
            response = await http.post(url, json={"nickname": nickname}, timeout=timeout_s)
    except httpx.TransportError as exc:
        raise ClientError("unreachable", f"{url}: {exc!r}", reconnect=True) from exc
    try:
        body = response.json()
    except ValueError:
        body = None
    if not response.is_success:
        error_code, message = error_fields(body)
        status = response.status_code
        raise ClientError(error_code or f"http-{status}", message or f"{url}: HTTP {status}")
    if isinstance(body, dict):
        device, token = body.get("device"), body.get("token")
        if isinstance(device, str) and isinstance(token, str):
            return JoinResult(device=device, token=token)
    raise ClientError("bad-message", f"{url}: the join response has no device and token")


def error_fields(body: object) -> tuple[str | None, str | None]:
    """(code, message) of an HTTP error body: ``{"error"|"code": …, "message": …}``, the
    same object under ``error``, or FastAPI's ``{"detail": …}`` (a string or an object)."""
    if not isinstance(body, dict):
        return None, None
    for key in ("error", "detail"):
        nested = error_fields(body.get(key))
        if nested[0] is not None:
            return nested
    code = next((body[k] for k in ("error", "code") if isinstance(body.get(k), str)), None)
    message = next((body[k] for k in ("message", "detail") if isinstance(body.get(k), str)), None)
    return code, message


__all__ = ["JoinResult", "error_fields", "join_room"]
