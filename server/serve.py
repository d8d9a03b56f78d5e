"""`kinoroom serve`: the server on a socket, with a banner telling a person how to join."""

from __future__ import annotations

import asyncio
import gc
import socket
import sys
from collections.abc import Callable
from urllib.parse import urlencode

import segno
import uvicorn

from server import logs, preflight
from server.app import create_app
from server.rooms.registry import Seat
from server.services import Services
from server.settings import Settings
from server.ws_transport import PageSocketProtocol


def banner(services: Services, base_url: str) -> str:
    lines = [f"Kinoroom is running at {base_url}  (health: {base_url}/healthz)"]
    if services.demo is not None:
        room, host = services.demo
        join = f"{base_url}/j/{room.code}"
        lines += [
            f'Demo room {room.code}: "{room.story.title}", policy {room.screening.policy.name}',
            f"Phones join with code {room.code} at {join}",
        ]
        lines.append(f"Shared screen: {base_url}/screen/{room.code}")
        if host is not None:
            host_url = f"{base_url}/host#{_host_fragment(host)}"
            lines.append(f"Host page (start, skip, force, end): {host_url}")
            lines.append(f"Studio (script assistant): {base_url}/studio#{_host_fragment(host)}")
        else:
            lines.append("(restored from before the restart: the host keeps the token it had)")
        qr = segno.make(join, error="m")
        lines.append(_terminal_qr(qr))
    return "\n".join(lines)


def _host_fragment(host: Seat) -> str:
    """The host link's fragment: browsers never send it to a server, so it stays out of logs."""
    return urlencode({"room": host.room, "token": host.token})


def _terminal_qr(qr: segno.QRCode) -> str:
    """Two modules per character cell with half blocks, so the code stays square."""
    matrix = [list(row) for row in qr.matrix_iter(scale=1, border=2)]
    if len(matrix) % 2:
        matrix.append([0] * len(matrix[0]))
    cells = {(0, 0): " ", (1, 0): "▀", (0, 1): "▄", (1, 1): "█"}
    rows = []
    for top, bottom in zip(matrix[::2], matrix[1::2], strict=True):
        rows.append("".join(cells[(bool(a), bool(b))] for a, b in zip(top, bottom, strict=True)))
    return "\n".join(rows)


def bind(settings: Settings) -> socket.socket:
    """Bind and listen first, so port 0 becomes a real port before the banner names it,
    and a client that connects as soon as it reads the banner waits in the backlog
    until uvicorn accepts (instead of being refused while the services start)."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.host, settings.port))
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock


BACKLOG = 2048  # uvicorn's own default


def tune_gc() -> None:
    """Make full garbage collections rare: they pause the whole event loop.

    With 10,000 phones connected the server holds about 3 million objects, and CPython's
    default thresholds run a full collection every few seconds that stops the loop for
    0.75–2 s, which is where a 10,000-phone vote's ack latency tail came from (measured
    with py-spy and gc callbacks; see the README's benchmark). The server allocates few
    reference cycles, so collecting the young generation less often costs little memory.
    """
    gc.set_threshold(20_000, 10, 100)


def _say(text: str) -> None:
    print(text, flush=True)  # a pipe or a log file sees the banner at once, not at exit


def serve(settings: Settings, *, out: Callable[[str], object] = _say) -> None:
    """Serve until SIGINT or SIGTERM.

    Raises:
        SettingError: a setting it cannot run with (checked before anything starts).
    """
    preflight.check_settings(settings)
    logs.configure(settings.log_level, settings.log_format)
    tune_gc()
    sock = preflight.listen(settings, bind)
    base_url = settings.resolved_public_url(sock.getsockname()[1])

    def ready(services: Services) -> None:
        out(banner(services, base_url))
        gc.freeze()  # what start-up built lives as long as the process: never scan it again

    app = create_app(settings, on_ready=ready)
    config = uvicorn.Config(
        app,
        log_config=None,
        ws=PageSocketProtocol,  # hostile frames: their close code and one line, no traceback
        ws_max_size=64 * 1024,  # the protocol's own 4 KiB limit answers with an error first
        ws_ping_interval=20.0,
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)

    async def run() -> None:
        await preflight.check_services(settings)  # PostgreSQL and Redis, when configured
        await server.serve(sockets=[sock])

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        sys.stderr.write("stopped\n")
    finally:
        sock.close()


__all__ = ["banner", "bind", "serve"]
