"""What the server says about a load test, and the summary for people.

`RssSampler` watches the server process from outside (resident memory, CPU time);
`server_metrics` reads the server's ``/metrics`` (Prometheus text) after the run: what
the server measured of the same votes (arrival to ack, commit time, events per group
commit, slow consumers), as a cross-check of what the phones measured, which includes
the bots' own CPU time. `report_lines` turns the load test's JSON into the summary
printed at the end, with the issue's targets beside the figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
from prometheus_client.parser import text_string_to_metric_families

# Targets of the rooms-server issue, for 10,000 phones voting in one 10 s window.
TARGET_VOTE_ACK_P99_MS = 250.0
TARGET_DECISION_P99_MS = 1000.0
TARGET_RSS_MB = 1536.0
RSS_SAMPLE_S = 0.5


def histogram(samples: list[tuple[str, dict[str, str], float]], scale: float) -> dict[str, object]:
    """Count, mean and bucket-bound quantiles of one Prometheus histogram's samples, times
    ``scale`` (1000: seconds to ms); a quantile is the upper bound of its bucket."""
    buckets = sorted(
        (float(labels["le"]), value) for name, labels, value in samples if name.endswith("_bucket")
    )
    count = next((v for n, _, v in samples if n.endswith("_count")), 0.0)
    total = next((v for n, _, v in samples if n.endswith("_sum")), 0.0)

    def bound(q: float) -> float | None:
        for le, cumulative in buckets:
            if count and cumulative >= q * count:
                return round(le * scale, 3) if le != float("inf") else None
        return None

    return {
        "count": int(count),
        "mean": round(scale * total / count, 2) if count else None,
        "p50_le": bound(0.5),
        "p99_le": bound(0.99),
    }


async def server_metrics(http: httpx.AsyncClient) -> dict[str, object]:
    """The server's view of the run from ``/metrics`` (empty when it cannot be read).

    Times are in ms; ``events_per_commit`` counts events in one group commit."""
    try:
        response = await http.get("/metrics")
        response.raise_for_status()
    except httpx.HTTPError:
        return {}
    families = {f.name: f for f in text_string_to_metric_families(response.text)}

    def samples(name: str) -> list[tuple[str, dict[str, str], float]]:
        family = families.get(name)
        return [(s.name, s.labels, s.value) for s in family.samples] if family else []

    return {
        "vote_ack_ms": histogram(samples("kinoroom_vote_ack_seconds"), 1000.0),
        "commit_ms": histogram(samples("kinoroom_commit_seconds"), 1000.0),
        "events_per_commit": histogram(samples("kinoroom_commit_events"), 1.0),
        "slow_consumers": sum(v for n, _, v in samples("kinoroom_slow_consumers") if "total" in n),
        "protocol_errors": {
            labels["code"]: v
            for n, labels, v in samples("kinoroom_protocol_errors")
            if n.endswith("_total")
        },
    }


def find_server_pid(url: str) -> int | None:
    """The process listening on ``url``'s port on this machine, if one can be seen."""
    port = urllib.parse.urlsplit(url).port or 80
    with contextlib.suppress(psutil.Error, OSError):
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                return conn.pid
    return None


class RssSampler:
    """Samples a process's resident memory now and then; reads the kernel's peak too."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.samples: list[tuple[float, int]] = []
        self._process = None
        if pid is not None:
            with contextlib.suppress(psutil.Error):
                self._process = psutil.Process(pid)
        self.cpu_start = self._cpu()

    def _cpu(self) -> float | None:
        if self._process is None:
            return None
        with contextlib.suppress(psutil.Error):
            times = self._process.cpu_times()
            return float(times.user + times.system)
        return None

    def sample(self) -> None:
        if self._process is not None:
            with contextlib.suppress(psutil.Error):
                self.samples.append((time.time(), self._process.memory_info().rss))

    async def run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(RSS_SAMPLE_S)

    def peak_hwm(self) -> int | None:
        """VmHWM of /proc/PID/status: the most the process ever had resident."""
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        return None

    def figures(self) -> dict[str, object]:
        self.sample()
        cpu_end = self._cpu()
        mb = 1024 * 1024
        rss = [r for _, r in self.samples]
        hwm = self.peak_hwm()
        return {
            "pid": self.pid,
            "rss_mb_end": round(rss[-1] / mb, 1) if rss else None,
            "rss_mb_peak_sampled": round(max(rss) / mb, 1) if rss else None,
            "rss_mb_peak_kernel": round(hwm / mb, 1) if hwm else None,
            "cpu_s": (
                round(cpu_end - self.cpu_start, 2)
                if cpu_end is not None and self.cpu_start is not None
                else None
            ),
        }


def _ms(figures: object) -> str:
    if not isinstance(figures, dict) or figures.get("p50") is None:
        return "none measured"
    return ", ".join(f"{k} {figures[k]:g} ms" for k in ("p50", "p95", "p99", "max"))


def _target(value: object, target: float) -> str:
    if not isinstance(value, int | float):
        return "(no figure)"
    return f"(target ≤ {target:g}: {'met' if value <= target else 'MISSED'})"


def report_lines(result: dict[str, Any]) -> Iterator[str]:
    """The summary of a load test's JSON, line by line."""
    yield (
        f"loadtest: {result['phones']} phones in {result['procs']} processes, "
        f"room {result['room']} at {result['url']}, vote window {result['duration_s']:g} s"
    )
    for phase in ("join", "connect"):
        p = result[phase]
        yield f"{phase}: {p['ok']}/{p['of']} in {p['seconds']} s ({p['per_s']}/s)"
    votes = result["votes"]
    yield (
        f"votes: {votes['votes']} sent, {votes['acked']} acked, rejected "
        f"{votes['rejected'] or 'none'} ({result.get('refused_in_time', 0)} of them tapped "
        f"before the close), reconnects {votes['reconnects']}"
    )
    ack = result["vote_ack_ms"]
    yield f"vote ack (phone side): {_ms(ack)} {_target(ack.get('p99'), TARGET_VOTE_ACK_P99_MS)}"
    latency = result["decision_latency_ms"] or {}
    yield (
        f"decision to all phones (after the close): {_ms(latency)} "
        f"{_target(latency.get('p99'), TARGET_DECISION_P99_MS)}"
    )
    yield f"decision spread (after the first phone): {_ms(result['decision_spread_ms'])}"
    server = result["server"]
    peak = server.get("rss_mb_peak_kernel") or server.get("rss_mb_peak_sampled")
    yield (
        f"server pid {server['pid']}: RSS peak {peak} MB, at the end {server['rss_mb_end']} MB "
        f"{_target(peak, TARGET_RSS_MB)}; CPU {server['cpu_s']} s during the run"
    )
    metrics = server.get("metrics") or {}
    if metrics:
        ack, commits = metrics["vote_ack_ms"], metrics["events_per_commit"]
        yield (
            f"server side: vote arrival to ack mean {ack['mean']} ms, p99 ≤ {ack['p99_le']} ms; "
            f"{commits['count']} group commits of {commits['mean']} events on average, "
            f"mean {metrics['commit_ms']['mean']} ms; slow consumers {metrics['slow_consumers']:g}"
        )
    yield f"errors: {result['errors'] or 'none'}"


__all__ = [
    "TARGET_DECISION_P99_MS",
    "TARGET_RSS_MB",
    "TARGET_VOTE_ACK_P99_MS",
    "RssSampler",
    "find_server_pid",
    "histogram",
    "report_lines",
    "server_metrics",
]
