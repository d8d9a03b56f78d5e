"""What the server says about a load test, and the summary for people.

`server_metrics` reads the server's ``/metrics`` (Prometheus text) after the run, from
every node of a cluster: what the server measured of the same votes (arrival to ack,
commit time, events per group commit, slow consumers), as a cross-check of what the
phones measured, which includes the bots' own CPU time. `report_lines` turns the load
test's JSON into the summary printed at the end, with the issue's targets beside the
figures.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

# Targets of the rooms-server issue, for 10,000 phones voting in one 10 s window.
TARGET_VOTE_ACK_P99_MS = 250.0
TARGET_DECISION_P99_MS = 1000.0
TARGET_RSS_MB = 1536.0


Sample = tuple[str, dict[str, str], float]
METRICS_TRIES_PER_NODE = 20  # a fresh connection lands on a random worker of a shared port


def histogram(samples: list[Sample], scale: float) -> dict[str, object]:
    """Count, mean and bucket-bound quantiles of one Prometheus histogram's samples, summed
    over the nodes they came from, times ``scale`` (1000: seconds to ms); a quantile is the
    upper bound of its bucket."""
    cumulative: dict[float, float] = {}
    count = total = 0.0
    for name, labels, value in samples:
        if name.endswith("_bucket"):
            le = float(labels["le"])
            cumulative[le] = cumulative.get(le, 0.0) + value
        elif name.endswith("_count"):
            count += value
        elif name.endswith("_sum"):
            total += value

    def bound(q: float) -> float | None:
        for le, seen in sorted(cumulative.items()):
            if count and seen >= q * count:
                return round(le * scale, 3) if le != float("inf") else None
        return None

    return {
        "count": int(count),
        "mean": round(scale * total / count, 2) if count else None,
        "p50_le": bound(0.5),
        "p99_le": bound(0.99),
    }


async def _node_texts(url: str, nodes: int) -> dict[str, str]:
    """``/metrics`` of each of ``nodes`` processes behind ``url``, by node name ("" for a
    server that is not a cluster node). Each try is a new connection: the kernel hands
    it to any worker sharing the port."""
    texts: dict[str, str] = {}
    for _ in range(METRICS_TRIES_PER_NODE * nodes):
        try:
            async with httpx.AsyncClient(base_url=url, trust_env=False, timeout=30.0) as http:
                response = await http.get("/metrics")
                response.raise_for_status()
        except httpx.HTTPError:
            break
        node = re.search(r'node="([^"]*)"', response.text)
        texts.setdefault(node[1] if node else "", response.text)
        if len(texts) >= nodes or "" in texts:  # all of them, or a server that is no node
            break
    return texts


def _figures(families: dict[str, list[Sample]]) -> dict[str, Any]:
    def samples(name: str) -> list[Sample]:
        return families.get(name, [])

    return {
        "vote_ack_ms": histogram(samples("kinoroom_vote_ack_seconds"), 1000.0),
        "commit_ms": histogram(samples("kinoroom_commit_seconds"), 1000.0),
        "events_per_commit": histogram(samples("kinoroom_commit_events"), 1.0),
        "sockets": sum(v for _, _, v in samples("kinoroom_sockets")),
        "slow_consumers": sum(v for n, _, v in samples("kinoroom_slow_consumers") if "total" in n),
        "protocol_errors": {
            labels["code"]: v
            for n, labels, v in samples("kinoroom_protocol_errors")
            if n.endswith("_total")
        },
    }


async def server_metrics(url: str, nodes: int = 1) -> dict[str, Any]:
    """The server's view of the run from ``/metrics`` of every node (empty when it cannot
    be read): the figures summed over the nodes, and with several nodes each one's under
    ``nodes``.

    Times are in ms; ``events_per_commit`` counts events in one group commit."""
    by_node: dict[str, dict[str, list[Sample]]] = {}
    for node, text in (await _node_texts(url, nodes)).items():
        by_node[node] = {
            family.name: [(s.name, s.labels, s.value) for s in family.samples]
            for family in text_string_to_metric_families(text)
        }
    if not by_node:
        return {}
    every: dict[str, list[Sample]] = {}
    for families in by_node.values():
        for name, found in families.items():
            every.setdefault(name, []).extend(found)
    merged = _figures(every)
    if len(by_node) > 1:
        merged["nodes"] = {node: _figures(families) for node, families in by_node.items()}
    return merged


def node_costs(server: dict[str, Any], metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """Each serving node's phones (its sockets, from ``metrics`` read as the vote starts)
    and CPU during the vote (from the host's start to the last phone's decision), in cores
    and in cores per 1,000 phones.

    A cluster node's name holds its process id (`server.cluster.nodes.node_name`), which
    ties its ``/metrics`` to its process; a lone server is the one node."""
    processes = {p["pid"]: p for p in server.get("processes", [])}
    named = metrics.get("nodes") or {"": metrics} if metrics else {}
    vote_s = server.get("vote_s") or 0.0
    costs = []
    for node, figures in sorted(named.items()):
        pid = int(node.rsplit("-", 2)[-2]) if node.count("-") >= 2 else server.get("pid")
        process = processes.get(pid, {})
        phones = int(figures["sockets"])
        cores = process.get("vote_cpu_s") / vote_s if process.get("vote_cpu_s") and vote_s else None
        costs.append({
            "node": node or "server",
            "pid": pid,
            "phones": phones,
            "vote_cpu_s": process.get("vote_cpu_s"),
            "cores": round(cores, 3) if cores is not None else None,
            "cores_per_1000_phones": round(1000 * cores / phones, 3) if cores and phones else None,
        })  # fmt: skip
    return costs


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
    for node in result.get("nodes", []):
        yield (
            f"node {node['node']} (pid {node['pid']}): {node['phones']} phones, "
            f"{node['cores']} cores during the vote = {node['cores_per_1000_phones']} "
            f"per 1,000 phones"
        )
    redis = result.get("redis")
    if redis:
        yield (
            f"redis: {redis.get('ops')} commands during the vote, {redis.get('ops_per_vote')} "
            f"per acked vote; most: {dict(list(redis.get('by_command', {}).items())[:5])}"
        )
    yield f"errors: {result['errors'] or 'none'}"


__all__ = [
    "TARGET_DECISION_P99_MS",
    "TARGET_RSS_MB",
    "TARGET_VOTE_ACK_P99_MS",
    "histogram",
    "node_costs",
    "report_lines",
    "server_metrics",
]
