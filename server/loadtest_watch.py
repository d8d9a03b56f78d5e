"""The server under a load test, watched from outside: its processes and its Redis.

`ServerWatch` samples the server's processes (the one ``kinoroom serve``, or the parent of
``serve --workers N`` and its workers, each a node): resident memory, and the CPU time
each used during the run and during the vote (`mark` starts the vote). `RedisOps` counts
the commands a cluster's Redis served during the vote (``INFO commandstats`` before and
after), so a run can say what one vote costs Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import urllib.parse
from pathlib import Path

import psutil
from redis.asyncio import Redis
from redis.exceptions import RedisError

SAMPLE_S = 0.5
MB = 1024 * 1024


def find_server_pid(url: str) -> int | None:
    """The process listening on ``url``'s port on this machine, if one can be seen."""
    port = urllib.parse.urlsplit(url).port or 80
    with contextlib.suppress(psutil.Error, OSError):
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                return conn.pid
    return None


def _cpu_s(process: psutil.Process) -> float | None:
    with contextlib.suppress(psutil.Error):
        times = process.cpu_times()
        return float(times.user + times.system)
    return None


def _hwm(pid: int) -> int | None:
    """VmHWM of /proc/PID/status: the most the process ever had resident."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return None


class ServerWatch:
    """The server's processes (``pid`` and its children), sampled now and then.

    A worker that ``serve --workers`` starts again is a new process and is counted from
    when it is first seen."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.samples: list[tuple[float, int]] = []  # (time, resident bytes of them all)
        self._root: psutil.Process | None = None
        if pid is not None:
            with contextlib.suppress(psutil.Error):
                self._root = psutil.Process(pid)
        self._procs: dict[int, psutil.Process] = {}
        self._first: dict[int, float] = {}  # CPU seconds when first seen
        self._marked: dict[int, float] = {}  # ... when the vote started
        self._last: dict[int, float] = {}
        self._hwm: dict[int, int] = {}
        self._marked_at: float | None = None
        self.sample()

    def _processes(self) -> list[psutil.Process]:
        if self._root is None:
            return []
        found = [self._root]
        with contextlib.suppress(psutil.Error):
            found += self._root.children(recursive=True)
        for process in found:
            self._procs.setdefault(process.pid, process)
        return found

    def sample(self) -> None:
        rss = 0
        for process in self._processes():
            cpu = _cpu_s(process)
            if cpu is not None:
                self._first.setdefault(process.pid, cpu)
                self._last[process.pid] = cpu
            with contextlib.suppress(psutil.Error):
                rss += process.memory_info().rss
            self._hwm[process.pid] = _hwm(process.pid) or self._hwm.get(process.pid, 0)
        if self._root is not None:
            self.samples.append((time.time(), rss))

    def mark(self) -> None:
        """The vote starts now: CPU from here on is the vote's."""
        self.sample()
        self._marked, self._marked_at = dict(self._last), time.monotonic()

    def nodes(self) -> int:
        """Server processes that serve: the workers `serve --workers` started (its direct
        children: their own helpers, e.g. a resource tracker, are no nodes), or the one."""
        if self._root is None:
            return 1
        with contextlib.suppress(psutil.Error):
            return max(1, len(self._root.children()))
        return 1

    async def run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(SAMPLE_S)

    def figures(self) -> dict[str, object]:
        self.sample()
        rss = [r for _, r in self.samples]
        hwm = sum(self._hwm.values())

        def used(since: dict[int, float], pid: int) -> float | None:
            if pid not in since or pid not in self._last:
                return None
            return round(self._last[pid] - since[pid], 2)

        processes = [
            {
                "pid": pid,
                "cpu_s": used(self._first, pid),
                "vote_cpu_s": used(self._marked, pid),
                "rss_mb_peak_kernel": round(self._hwm.get(pid, 0) / MB, 1),
            }
            for pid in sorted(self._procs)
        ]
        return {
            "pid": self.pid,
            "rss_mb_end": round(rss[-1] / MB, 1) if rss else None,
            "rss_mb_peak_sampled": round(max(rss) / MB, 1) if rss else None,
            "rss_mb_peak_kernel": round(hwm / MB, 1) if hwm else None,  # summed over them
            "cpu_s": round(sum(p["cpu_s"] or 0.0 for p in processes), 2) if processes else None,
            "vote_cpu_s": (
                round(sum(p["vote_cpu_s"] or 0.0 for p in processes), 2) if self._marked else None
            ),
            "vote_s": None
            if self._marked_at is None
            else round(time.monotonic() - self._marked_at, 2),
            "processes": processes,
        }


class RedisOps:
    """Commands a Redis served between `mark` and `figures`, by command."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._before: dict[str, int] = {}

    async def _counts(self) -> dict[str, int]:
        redis = Redis.from_url(self.url)
        try:
            stats = await redis.info("commandstats")
        finally:
            await redis.aclose()
        return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}

    async def mark(self) -> None:
        self._before = await self._counts()

    async def figures(self, votes: int) -> dict[str, object]:
        try:
            after = await self._counts()
        except RedisError as exc:
            return {"error": f"redis-unreachable: {exc}"}
        served = {n: c - self._before.get(n, 0) for n, c in after.items()}
        served = {n: c for n, c in sorted(served.items(), key=lambda i: -i[1]) if c > 0}
        total = sum(served.values()) - served.get("info", 0)  # less our own INFO
        return {
            "ops": total,
            "ops_per_vote": round(total / votes, 2) if votes else None,
            "by_command": served,
        }


__all__ = ["RedisOps", "ServerWatch", "find_server_pid"]
