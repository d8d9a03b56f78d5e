"""Kinoroom on a real network, for tests: HTTPS and plain listeners bound on 127.0.0.1
port 0 (the ports known before the settings, so the public URL can name them), and a
browser home whose NSS database trusts exactly one CA (Chromium on Linux reads
``$HOME/.pki/nssdb``; ``certutil`` is Debian's libnss3-tools, installed by `make test`)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from server.app import create_app
from server.network.listeners import Listeners, bind_socket, open_listeners, run
from server.network.tls import TlsMaterial, prepare_tls
from server.services import Services
from server.settings import Settings
from tests.server.conftest import settings_for

HOST = "kino.test"  # a LAN-style name: not loopback, so not a secure context by itself
RESOLVER = f"--host-resolver-rules=MAP {HOST} 127.0.0.1"
CERTUTIL = Path("/usr/bin/certutil")


@dataclass
class Served:
    url: str  # the public URL (https://kino.test:PORT, or what the test set)
    plain_url: str | None  # http://kino.test:PORT of the plain listener
    port: int
    services: Services
    listeners: Listeners
    settings: Settings


@contextlib.asynccontextmanager
async def serving(
    tmp_path: Path,
    *,
    plain: bool = True,
    tls: TlsMaterial | None = None,
    public_url: str | None = None,
    **overrides: object,
) -> AsyncIterator[Served]:
    """`kinoroom serve --https` in this process: the production listeners and TLS set-up.

    ``tls`` replaces what `prepare_tls` would make (a test serving an expired
    certificate, which `kinoroom serve` itself refuses to start with).
    """
    main_socket = bind_socket("127.0.0.1", 0)
    port = main_socket.getsockname()[1]
    plain_socket = bind_socket("127.0.0.1", 0) if plain else None
    values: dict[str, object] = {"https": True, **overrides}
    values["public_url"] = public_url or f"https://{HOST}:{port}"
    settings = settings_for(tmp_path, **values)
    material = tls or prepare_tls(settings, dt.datetime.now(dt.UTC))
    app = create_app(settings)
    listeners = open_listeners(
        app, settings, material, main_socket=main_socket, plain_socket=plain_socket
    )
    task = asyncio.create_task(run(listeners))
    try:
        async with asyncio.timeout(15):
            while not listeners.main.started or (
                listeners.plain is not None and not listeners.plain.started
            ):
                if task.done():
                    await task
                await asyncio.sleep(0.01)  # uvicorn has no started event
        plain_url = (
            f"http://{HOST}:{plain_socket.getsockname()[1]}" if plain_socket is not None else None
        )
        services: Services = app.state.services
        yield Served(values["public_url"], plain_url, port, services, listeners, settings)  # type: ignore[arg-type]
    finally:
        listeners.main.should_exit = True
        await task
        listeners.close()


def nss_home(folder: Path, *trusted: Path) -> Path:
    """A HOME for Chromium whose NSS database trusts exactly ``trusted`` CA files."""
    if not CERTUTIL.exists():
        pytest.fail(f"{CERTUTIL} is missing: `make test` installs Debian's libnss3-tools")
    db = folder / ".pki" / "nssdb"
    shutil.rmtree(db, ignore_errors=True)
    db.mkdir(parents=True)
    subprocess.run([CERTUTIL, "-d", f"sql:{db}", "-N", "--empty-password"], check=True)
    for i, ca in enumerate(trusted):
        subprocess.run(
            [CERTUTIL, "-d", f"sql:{db}", "-A", "-t", "C,,", "-n", f"ca{i}", "-i", str(ca)],
            check=True,
        )
    return folder


__all__ = ["HOST", "RESOLVER", "Served", "nss_home", "serving"]
