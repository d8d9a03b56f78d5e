"""`kinoroom serve`: the server on its sockets, with a banner telling a person how to join.

Before anything listens, every setting is checked (`server.preflight`), the network
settings and a cluster's parts too, and the TLS material made or checked
(`server.network`): a setting that cannot work stops here with one line.
"""

from __future__ import annotations

import asyncio
import gc
import socket
import sys
from collections.abc import Callable
from urllib.parse import urlencode

import segno

from server import logs, preflight
from server.app import create_app
from server.cluster.checks import check_cluster_settings
from server.network.checks import check_network_settings
from server.network.listeners import NetworkState, bind_socket, open_listeners, run, utc_now
from server.network.tls import prepare_tls
from server.rooms.registry import Seat
from server.services import Services
from server.settings import Settings


def banner(services: Services, base_url: str, network: NetworkState | None = None) -> str:
    lines = [f"Kinoroom is running at {base_url}  (health: {base_url}/healthz)"]
    lines += _trust_lines(network)
    if services.demo is not None:
        room, host = services.demo
        join = f"{base_url}/j/{room.code}"
        lines += [
            f'Demo room {room.code}: "{room.summary.title}", policy {room.summary.policy}',
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


def _trust_lines(network: NetworkState | None) -> list[str]:
    """How phones come to trust a local certificate, and the plain-HTTP address."""
    if network is None:
        return []
    lines = []
    tls = network.tls
    if tls is not None and tls.ca_fingerprint is not None:
        where = network.plain_url or network.public_url
        lines.append(
            f"Phones trust it once they install Kinoroom's local CA: {where}/tls/ca.crt "
            f"(SHA-256 {tls.ca_fingerprint}; steps on the host page)"
        )
        if "ca" in tls.made:
            lines.append(
                "(a new local CA, in DATA_DIR/tls: a phone that installed an earlier one needs it)"
            )
    if network.plain_url is not None:
        lines.append(f"Plain HTTP (tells phones the HTTPS address): {network.plain_url}")
    return lines


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


BACKLOG = 2048  # uvicorn's own default


def bind(settings: Settings) -> socket.socket:
    """Bind and listen first, so port 0 becomes a real port before the banner names it,
    and a client that connects as soon as it reads the banner waits in the backlog
    until uvicorn accepts (instead of being refused while the services start). A node of
    a cluster shares its port with the other processes of its box (`--workers`)."""
    sock = bind_socket(settings.host, settings.port, reuse_port=settings.cluster)
    sock.listen(BACKLOG)
    return sock


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
        NetworkSetupError: a TLS, proxy or ICE setting that cannot work, or a cluster
            missing its Redis, PostgreSQL or secret (before listening).
    """
    preflight.check_settings(settings)
    logs.configure(settings.log_level, settings.log_format)
    tune_gc()
    check_cluster_settings(settings)
    warnings = check_network_settings(settings)
    tls = prepare_tls(settings, utc_now())
    for line in [*warnings, *(tls.warnings if tls is not None else ())]:
        sys.stderr.write(line + "\n")
    sock = preflight.listen(settings, bind)

    def ready(services: Services) -> None:
        out(banner(services, listeners.state.public_url, listeners.state))
        # What start-up built lives as long as the process: the collector never scans it
        # again, and starts now if `kinoroom serve` kept it paused (`server.__main__`).
        gc.freeze()
        gc.enable()

    app = create_app(settings, on_ready=ready)
    listeners = open_listeners(app, settings, tls, main_socket=sock)

    async def main() -> None:
        await preflight.check_services(settings)  # PostgreSQL and Redis, when configured
        await run(listeners)

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.stderr.write("stopped\n")
    finally:
        listeners.close()


__all__ = ["banner", "bind", "serve"]
