"""The shipped reverse-proxy configuration (docs/nginx/kinoroom.conf) run by Debian's
nginx, as a child process on loopback, for the proxy tests.

The test changes only the values the file marks for the person installing it (listen
addresses, the upstream's port, the name, the certificate paths), each of which must be
found exactly where the file says, and wraps it in a main configuration of its own
(temp prefix, no daemon). nginx cannot listen on port 0 and say which port it got, so
the test binds the sockets itself and hands them over the way nginx's own binary
upgrade does: the ``NGINX`` environment variable lists inherited descriptors.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from server.network.listeners import bind_socket

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = ROOT / "docs" / "nginx" / "kinoroom.conf"
NGINX = Path("/usr/sbin/nginx")


@dataclass
class Proxy:
    https_port: int
    http_port: int
    folder: Path

    def log(self) -> str:
        return (self.folder / "error.log").read_text(errors="replace")


def site(
    text: str, *, upstream: int, https_port: int, http_port: int, name: str, cert: Path, key: Path
) -> str:
    """The shipped file with the marked values set for this test."""
    changes = [
        ("    server 127.0.0.1:8000;", f"    server 127.0.0.1:{upstream};", 1),
        ("    listen 443 ssl;\n", f"    listen 127.0.0.1:{https_port} ssl;\n", 1),
        ("    listen [::]:443 ssl;\n", "", 1),
        ("    listen 80;\n", f"    listen 127.0.0.1:{http_port};\n", 1),
        ("    listen [::]:80;\n", "", 1),
        ("server_name kino.example.org;", f"server_name {name};", 2),
        ("/etc/letsencrypt/live/kino.example.org/fullchain.pem", str(cert), 1),
        ("/etc/letsencrypt/live/kino.example.org/privkey.pem", str(key), 1),
    ]
    for old, new, count in changes:
        assert text.count(old) == count, f"{SHIPPED.name} no longer has {old!r} {count}x"
        text = text.replace(old, new)
    return text


@contextlib.contextmanager
def running_nginx(
    folder: Path,
    *,
    upstream: int,
    name: str,
    cert: Path,
    key: Path,
    sockets: tuple[socket.socket, socket.socket] | None = None,
) -> Iterator[Proxy]:
    """nginx with the shipped site on 127.0.0.1 (HTTPS and plain ports), until exit."""
    if not NGINX.exists():
        pytest.fail(f"{NGINX} is missing: `make test` installs Debian's nginx")
    https_sock, http_sock = sockets or (bind_socket("127.0.0.1", 0), bind_socket("127.0.0.1", 0))
    for sock in (https_sock, http_sock):
        sock.listen(128)
    https_port = https_sock.getsockname()[1]
    http_port = http_sock.getsockname()[1]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kinoroom.conf").write_text(
        site(
            SHIPPED.read_text(),
            upstream=upstream,
            https_port=https_port,
            http_port=http_port,
            name=name,
            cert=cert,
            key=key,
        )
    )
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the temp folder
    temps = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (folder / "nginx.conf").write_text(
        f"daemon off;\n{user}worker_processes 1;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} notice;\n"
        "events { worker_connections 512; }\n"
        f"http {{\n    access_log {folder / 'access.log'};\n{temps}\n"
        f"    include {folder / 'kinoroom.conf'};\n}}\n"
    )
    fds = [https_sock.fileno(), http_sock.fileno()]
    process = subprocess.Popen(
        [
            str(NGINX),
            "-p",
            str(folder),
            "-c",
            str(folder / "nginx.conf"),
            "-e",
            str(folder / "error.log"),
        ],
        env={"NGINX": "".join(f"{fd};" for fd in fds), "PATH": os.environ.get("PATH", "")},
        pass_fds=fds,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    proxy = Proxy(https_port, http_port, folder)
    try:
        # The sockets already listen, so connections queue even before nginx accepts;
        # this waits only to report a configuration nginx refused, with its own words.
        deadline = time.monotonic() + 15
        while "start worker process" not in _read(folder / "error.log"):
            if process.poll() is not None or time.monotonic() > deadline:
                stderr = process.stderr.read() if process.stderr else ""
                pytest.fail(f"nginx did not start:\n{stderr}\n{_read(folder / 'error.log')}")
            time.sleep(0.05)
        yield proxy
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        finally:
            if process.stderr is not None:
                process.stderr.close()
            https_sock.close()
            http_sock.close()


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


__all__ = ["Proxy", "running_nginx", "site"]
