"""One process against a cluster, side by side: `bench/loadtest.sh` at each size, both ways.

For each number of phones (10,000 and 20,000 by default) the same load test runs twice,
one after the other on the same machine: against one ``kinoroom serve`` (the embedded
defaults) and against ``kinoroom serve --workers 2`` with a Redis and a PostgreSQL of its
own (what `bench/loadtest.sh --workers 2` sets up). The table compares what the phones saw
(vote-ack p99, decision to every phone p99), what the server saw (arrival to ack p99),
what each node's CPU was per 1,000 phones during the vote, what one vote cost Redis, and
the servers' memory. Every figure of every run is in the JSON.

    .venv/bin/python bench/scaleout.py                      # 10,000 and 20,000 phones
    .venv/bin/python bench/scaleout.py --phones 2000        # one smaller size
    .venv/bin/python bench/scaleout.py --smoke --out FILE   # 20 phones: does it work?

The bots run on the same cores as the servers (two bot processes), so the phones'
figures include the bots' own waiting: the server-side columns are the servers' share.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "bench/results/scaleout.json"


def run_one(phones: int, workers: int, smoke: bool, procs: int) -> dict[str, Any]:
    """One `bench/loadtest.sh` run; its JSON, or why it failed or could not run."""
    files = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if files != resource.RLIM_INFINITY and phones / workers + 1000 > files:
        return {"skipped": f"a process may open {files} files here: {phones} phones need more"}
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "loadtest.json"
        env = {**os.environ, "PHONES": str(phones), "WORKERS": str(workers)}
        env["PROCS"] = str(procs)
        command = ["bash", str(ROOT / "bench/loadtest.sh"), "--out", str(out)]
        if smoke:
            command[2:2] = ["--smoke"]
            env.pop("PHONES")
        done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
        sys.stderr.write(done.stdout)
        if not out.exists():
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            return {"failed": done.returncode, "why": tail}
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        result["exit_status"] = done.returncode
        return result


def row(result: dict[str, Any], workers: int, phones: int) -> dict[str, Any]:
    """The figures the table shows, from one run's JSON."""
    if "failed" in result or "skipped" in result:
        return {"workers": workers, "phones": phones, **result}
    server, redis = result["server"], result.get("redis") or {}
    metrics = server.get("metrics") or {}
    nodes = result.get("nodes") or []
    per_1000 = [n["cores_per_1000_phones"] for n in nodes if n["cores_per_1000_phones"]]
    return {
        "workers": workers,
        "phones": result["phones"],
        "acked": result["votes"]["acked"],
        "vote_ack_p99_ms": result["vote_ack_ms"].get("p99"),
        "server_ack_p99_le_ms": (metrics.get("vote_ack_ms") or {}).get("p99_le"),
        "decision_p99_ms": (result["decision_latency_ms"] or {}).get("p99"),
        "cores_per_1000_phones_per_node": per_1000,
        "sockets_per_node": [n["phones"] for n in nodes],
        "redis_ops_per_vote": redis.get("ops_per_vote"),
        "rss_mb_peak": server.get("rss_mb_peak_kernel") or server.get("rss_mb_peak_sampled"),
        "errors": result["errors"],
    }


COLUMNS = (  # heading, width, the cell from a row
    ("phones", 6, lambda r: r["phones"]),
    ("server", 9, lambda r: "1 process" if r["workers"] == 1 else f"{r['workers']} workers"),
    ("ack p99 ms phone", 16, lambda r: r["vote_ack_p99_ms"]),
    ("server", 6, lambda r: r["server_ack_p99_le_ms"]),
    ("decision p99 ms", 15, lambda r: r["decision_p99_ms"]),
    (
        "cores/1000 phones/node",
        22,
        lambda r: "/".join(map(str, r["cores_per_1000_phones_per_node"])),
    ),
    ("sockets/node", 12, lambda r: "/".join(map(str, r["sockets_per_node"]))),
    ("redis ops/vote", 14, lambda r: r["redis_ops_per_vote"]),
    ("RSS MB", 6, lambda r: r["rss_mb_peak"]),
    ("errors", 0, lambda r: r["errors"] or "none"),
)


def table(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["  ".join(f"{h:>{w}}" for h, w, _ in COLUMNS)]
    for r in rows:
        if "skipped" in r:
            lines.append(f"{r['phones']:>6}  {r['workers']} process(es): not run: {r['skipped']}")
        elif "failed" in r:
            lines.append(
                f"{r['workers']} process(es): failed ({r['failed']}): {' / '.join(r['why'])}"
            )
        else:
            lines.append(
                "  ".join(
                    f"{'-' if (c := cell(r)) is None else c!s:>{w}}" for _, w, cell in COLUMNS
                )
            )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--phones", type=int, nargs="+", default=[10_000, 20_000])
    parser.add_argument("--workers", type=int, default=2, help="the cluster's processes")
    parser.add_argument("--procs", type=int, default=2, help="bot processes")
    parser.add_argument("--smoke", action="store_true", help="20 phones, a 2 s window")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    if args.workers < 2 or min(args.phones) < 1:
        parser.error("--workers must be at least 2 and --phones positive")
    sizes = [20] if args.smoke else args.phones
    runs = []
    for phones in sizes:
        for workers in (1, args.workers):
            print(f"{phones} phones, {workers} server process(es)...", file=sys.stderr, flush=True)
            result = run_one(phones, workers, args.smoke, 1 if args.smoke else args.procs)
            runs.append({"phones": phones, "workers": workers, "result": result})
    rows = [row(r["result"], r["workers"], r["phones"]) for r in runs]
    for line in table(rows):
        print(line)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    summary = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()}}
    summary |= {"load_average": os.getloadavg(), "rows": rows, "runs": runs}
    args.out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 1 if any("failed" in r or r.get("errors") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
