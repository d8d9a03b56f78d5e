"""`kinoroom serve --workers N`: one box, all its cores, one Kinoroom.

One event loop uses one core, so a box serves more phones by running one server process
per core (DESIGN.md, "Media" and "Scale"). The parent process takes the port, then
starts ``N`` ``kinoroom serve`` processes that each bind it too (``SO_REUSEPORT``: the
kernel spreads new connections among them) as nodes of one cluster (`server.cluster`):
a phone may land on any of them and still join any room. The parent restarts a worker
that dies (its rooms are taken over by the others meanwhile), forwards SIGINT and
SIGTERM, and exits when they have all stopped. Only the first worker prints the banner.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from types import FrameType

from server.cluster.checks import check_cluster_settings
from server.network.listeners import bind_socket
from server.settings import Settings

RESTART_PAUSE_S = 1.0  # a worker that dies is started again after this
EARLY_EXIT_S = 5.0  # ... unless it died this soon after starting: then it cannot start


def serve_workers(settings: Settings, workers: int, *, out: Callable[[str], object] = print) -> int:
    """Run ``workers`` server processes on one port until SIGINT/SIGTERM.

    Raises:
        NetworkSetupError: the cluster's settings are missing (Redis, PostgreSQL, secret).
    """
    settings = settings.model_copy(update={"cluster": True})
    check_cluster_settings(settings)
    # Held, bound but not listening, so that port 0 names one port for every worker; it
    # never accepts a connection.
    reserved = bind_socket(settings.host, settings.port, reuse_port=True)
    port = reserved.getsockname()[1]
    env = {**os.environ, "KINOROOM_CLUSTER": "true", "KINOROOM_PORT": str(port)}
    procs: list[subprocess.Popen[bytes] | None] = [None] * workers
    started = [0.0] * workers
    stopping = False
    signalled: set[subprocess.Popen[bytes]] = set()  # each gets one SIGTERM

    def start(index: int) -> None:
        """Start worker ``index``, unless the cluster is stopping."""
        if stopping:
            return
        quiet = {} if index == 0 else {"KINOROOM_DEMO_ROOM": "false"}
        command = [sys.executable, "-m", "server", "serve"]
        stdout = None if index == 0 else subprocess.DEVNULL
        procs[index] = subprocess.Popen(command, env={**env, **quiet}, stdout=stdout)
        started[index] = time.monotonic()
        if stopping:  # the signal came while it started: it stops too
            stop(signal.SIGTERM, None)

    def stop(signum: int, frame: FrameType | None) -> None:
        """Each running worker gets one SIGTERM (a second one makes uvicorn exit at once)."""
        nonlocal stopping
        stopping = True
        for proc in procs:
            if proc is not None and proc.poll() is None and proc not in signalled:
                signalled.add(proc)
                proc.send_signal(signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        out(f"Kinoroom: {workers} workers on port {port} (kinoroom cluster status lists them)")
        for index in range(workers):
            start(index)
        failed = 0
        while not stopping:
            time.sleep(0.2)
            for index, proc in enumerate(procs):
                if proc is None or proc.poll() is None or stopping:
                    continue
                if time.monotonic() - started[index] < EARLY_EXIT_S:
                    failed = proc.returncode or 1  # it cannot start: say why once, stop
                    stop(signal.SIGTERM, None)
                    break
                sys.stderr.write(f"worker {index} exited ({proc.returncode}); starting again\n")
                time.sleep(RESTART_PAUSE_S)
                start(index)
        for proc in procs:
            if proc is not None:
                proc.wait()
        return failed
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        reserved.close()


__all__ = ["serve_workers"]
