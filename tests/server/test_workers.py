"""`serve_workers`' supervision on its own: a worker that dies is started again, and a
SIGTERM stops every worker, even one that was being restarted when it came. The workers
here are stand-in processes (the cluster's real ones: tests/server/cluster/test_nodes.py)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import server.workers
from server.settings import Settings
from server.workers import serve_workers

# A worker that dies at once (exit 3), or one that runs until it is signalled.
DIES = "raise SystemExit(3)"
RUNS = "import time\nwhile True: time.sleep(1)"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path, host="127.0.0.1", port=0, redis_url="redis://127.0.0.1:6379/0",
        database_url="postgresql+asyncpg://postgres@127.0.0.1:5432/test", secret_key="s" * 32,
    )  # fmt: skip


class StandIns:
    """Replaces `serve_workers`' Popen: worker 0's first process dies, every other runs."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[bytes]] = []

    def popen(self, command: list[str], **options: Any) -> subprocess.Popen[bytes]:
        code = DIES if not self.started else RUNS
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL)
        self.started.append(proc)
        return proc


def test_a_sigterm_during_a_restart_stops_every_worker_and_starts_none(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    stand_ins = StandIns()
    fake = SimpleNamespace(Popen=stand_ins.popen, DEVNULL=subprocess.DEVNULL)
    monkeypatch.setattr(server.workers, "subprocess", fake)
    monkeypatch.setattr(server.workers, "EARLY_EXIT_S", 0.0)  # the death is not a failed start
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        if seconds == server.workers.RESTART_PAUSE_S:
            signal.raise_signal(signal.SIGTERM)  # the operator stops the cluster meanwhile
        else:
            time.sleep(seconds)

    monkeypatch.setattr(
        server.workers, "time", SimpleNamespace(sleep=sleep, monotonic=time.monotonic)
    )
    before = signal.getsignal(signal.SIGTERM)
    failed = serve_workers(settings, 2, out=lambda line: None)
    # It returned (every worker it started has exited), and started no worker after the
    # SIGTERM: before, the restarted worker was never signalled and the parent waited on it.
    assert failed == 0
    assert server.workers.RESTART_PAUSE_S in pauses
    assert len(stand_ins.started) == 2
    dead, running = stand_ins.started
    assert dead.returncode == 3
    assert running.returncode == -signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) == before  # its handler is put back
