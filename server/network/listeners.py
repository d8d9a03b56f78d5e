"""The sockets ``kinoroom serve`` listens on, and uvicorn around each.

- The main listener (``KINOROOM_HOST:PORT``) runs the app's lifespan; with TLS material
  it speaks HTTPS and WSS.
- With HTTPS and ``KINOROOM_HTTP_PORT``, a second, plain-HTTP listener serves the same
  app (lifespan off: the first one started the services): a phone that types the address
  without ``https://`` gets the pages, which tell it the HTTPS address and offer the
  local CA's certificate, fetchable there without a certificate warning.
- Forwarded headers (``X-Forwarded-For``, ``X-Forwarded-Proto``) are believed only from
  ``KINOROOM_TRUSTED_PROXIES``, by uvicorn's own proxy-headers middleware: behind them
  the request's client is the phone, so the failed-join budget counts phones, not the
  proxy. Nothing is trusted by default (uvicorn alone would trust 127.0.0.1).

`NetworkState` (``app.state.network``) is what the pages' ``/api/tls`` reads; a running
server renews a local certificate into it and into the live SSL context.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import uvicorn
from fastapi import FastAPI

from server.network.addresses import reachable_host, url_host
from server.network.tls import TlsMaterial
from server.settings import Settings
from server.ws_transport import PageSocketProtocol

log = logging.getLogger(__name__)

RENEW_CHECK_S = 12 * 3600.0  # a local certificate due for renewal waits at most this long


@dataclass
class NetworkState:
    """Where phones reach this server, and with which certificate.

    ``public_url`` is what links and QR codes use; ``https_url`` the HTTPS address (the
    public one when it is https, None when there is none); ``plain_url`` the plain-HTTP
    listener beside HTTPS, if any; ``tls`` what the HTTPS listener serves (None behind a
    proxy, where the proxy holds the certificate).
    """

    public_url: str
    https_url: str | None
    plain_url: str | None
    tls: TlsMaterial | None
    https_port: int | None = None  # the HTTPS listener's port, when this server has one


@dataclass
class Listeners:
    main: uvicorn.Server
    main_socket: socket.socket
    plain: uvicorn.Server | None
    plain_socket: socket.socket | None
    state: NetworkState

    def close(self) -> None:
        for sock in (self.main_socket, self.plain_socket):
            if sock is not None:
                sock.close()


def bind_socket(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """Bind first, so port 0 becomes a real port before the banner names it.

    ``reuse_port``: other processes may bind the same port (``SO_REUSEPORT``) and the
    kernel spreads connections among them (`kinoroom serve --workers`).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def uvicorn_config(
    app: FastAPI,
    settings: Settings,
    *,
    tls: TlsMaterial | None = None,
    lifespan: Literal["on", "off"] = "on",
) -> uvicorn.Config:
    """uvicorn's configuration for one listener of ``app``."""
    trusted = list(settings.trusted_proxies)
    config = uvicorn.Config(
        app,
        log_config=None,
        lifespan=lifespan,
        ws=PageSocketProtocol,  # hostile frames: their close code and one line, no traceback
        ws_max_size=64 * 1024,  # the protocol's own 4 KiB limit answers with an error first
        ws_ping_interval=20.0,
        timeout_graceful_shutdown=5,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
        ssl_certfile=str(tls.cert) if tls is not None else None,
        ssl_keyfile=str(tls.key) if tls is not None else None,
    )
    config.load()  # builds the SSL context now, so a renewal can reload it later
    return config


def open_listeners(
    app: FastAPI,
    settings: Settings,
    tls: TlsMaterial | None,
    *,
    main_socket: socket.socket | None = None,
    plain_socket: socket.socket | None = None,
) -> Listeners:
    """Bind the listeners ``settings`` ask for (unless given bound sockets: a caller that
    must know the ports first, for the public URL) and record them in
    ``app.state.network``."""
    main_socket = main_socket or bind_socket(
        settings.host, settings.port, reuse_port=settings.cluster
    )
    public = settings.resolved_public_url(main_socket.getsockname()[1])
    main = uvicorn.Server(uvicorn_config(app, settings, tls=tls, lifespan="on"))
    plain = plain_url = None
    if tls is not None and (plain_socket is not None or settings.http_port is not None):
        if plain_socket is None:
            assert settings.http_port is not None
            plain_socket = bind_socket(settings.host, settings.http_port)
        plain = uvicorn.Server(uvicorn_config(app, settings, lifespan="off"))
        host = url_host(public) or reachable_host(settings.host)
        host = f"[{host}]" if ":" in host else host
        plain_url = f"http://{host}:{plain_socket.getsockname()[1]}"
    https_url = public if public.startswith("https://") else None
    port = main_socket.getsockname()[1] if tls is not None else None
    state = NetworkState(public, https_url, plain_url, tls, port)
    app.state.network = state
    return Listeners(main, main_socket, plain, plain_socket, state)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def run(listeners: Listeners, now: Callable[[], dt.datetime] = utc_now) -> None:
    """Serve until the main listener stops (SIGINT/SIGTERM, or ``should_exit``)."""
    main = asyncio.create_task(listeners.main.serve(sockets=[listeners.main_socket]))
    helpers: list[asyncio.Task[None]] = []
    try:
        while not listeners.main.started and not main.done():
            await asyncio.sleep(0.01)  # uvicorn offers no started event; start-up only
        if main.done():
            return await main
        if listeners.plain is not None and listeners.plain_socket is not None:
            serving = listeners.plain.serve(sockets=[listeners.plain_socket])
            helpers.append(asyncio.create_task(serving, name="plain-http"))
        tls = listeners.state.tls
        if tls is not None and tls.generated:
            helpers.append(asyncio.create_task(_renewals(listeners, now), name="tls-renewal"))
        await main
    finally:
        if listeners.plain is not None:
            listeners.plain.should_exit = True
        for task in helpers:
            if task.get_name() == "tls-renewal":
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _renewals(listeners: Listeners, now: Callable[[], dt.datetime]) -> None:
    while True:
        await asyncio.sleep(RENEW_CHECK_S)
        renew(listeners, now())


def renew(listeners: Listeners, now: dt.datetime) -> bool:
    """Renew the local certificate if due, into the live SSL context; whether it was."""
    current = listeners.state.tls
    if current is None or not current.generated:
        return False
    fresh = current.refresh(now)
    if "server" not in fresh.made:
        return False
    context = listeners.main.config.ssl
    if context is not None:
        context.load_cert_chain(fresh.cert, fresh.key)  # later handshakes get the new one
    listeners.state.tls = fresh
    log.info("renewed the local server certificate; it expires %s", fresh.expires_at.date())
    return True


__all__ = [
    "Listeners",
    "NetworkState",
    "bind_socket",
    "open_listeners",
    "renew",
    "run",
    "uvicorn_config",
]
