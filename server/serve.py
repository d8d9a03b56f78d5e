"""`kinoroom serve`: the server on its sockets, with a banner telling a person how to join.

Before anything listens, the network settings are checked and the TLS material made or
checked (`server.network`): a setting that cannot work stops here with one line.
"""

from __future__ import annotations

import asyncio
import gc
import socket
import sys
from collections.abc import Callable
from urllib.parse import urlencode

import segno

from server import logs
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


def bind(settings: Settings) -> socket.socket:
    """Bind first, so port 0 becomes a real port before the banner names it."""
    return bind_socket(settings.host, settings.port)


def tune_gc() -> None:
    """Make full garbage collections rare: they pause the whole event loop.

    With 10,000 phones connected the server holds about 3 million objects, and CPython's
    default thresholds run a full collection every few seconds that stops the loop for
    0.75–2 s, which is where a 10,000-phone vote's ack latency tail came from (measured
    with py-spy and gc callbacks; see the README's benchmark). The server allocates few
    reference cycles, so collecting the young generation less often costs little memory.
    """
    gc.set_threshold(20_000, 10, 100)


def serve(settings: Settings, *, out: Callable[[str], object] = print) -> None:
    """Run the server until SIGINT/SIGTERM.

    Raises:
        NetworkSetupError: a TLS, proxy or ICE setting that cannot work, or a cluster
            missing its Redis, PostgreSQL or secret (before listening).
    """
    logs.configure(settings.log_level, settings.log_format)
    tune_gc()
    check_cluster_settings(settings)
    warnings = check_network_settings(settings)
    tls = prepare_tls(settings, utc_now())
    for line in [*warnings, *(tls.warnings if tls is not None else ())]:
        sys.stderr.write(line + "\n")

    def ready(services: Services) -> None:
        out(banner(services, listeners.state.public_url, listeners.state))
        gc.freeze()  # what start-up built lives as long as the process: never scan it again

    app = create_app(settings, on_ready=ready)
    listeners = open_listeners(app, settings, tls)
    try:
        asyncio.run(run(listeners))
    except KeyboardInterrupt:
        sys.stderr.write("stopped\n")
    finally:
        listeners.close()


__all__ = ["banner", "bind", "serve"]
