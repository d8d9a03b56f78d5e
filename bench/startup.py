"""Start-up benchmark: `kinoroom serve` from the command to its first ``/healthz`` answer.

Run with ``.venv/bin/python bench/startup.py [--runs 5] [--out FILE]`` (``--smoke``: one
run of each, to check that it works). Prints the figures and writes them as JSON
(default ``bench/results/startup.json``). Target (issue "Every README command works on
a fresh machine, fast"): the median start ≤ 1.0 s. A fast start is also what brings a
crashed server back before its rooms' vote windows close.

The project's modules are compiled to bytecode first (``compileall``), as installing a
wheel does and as a server's first start leaves them: a caller's
``PYTHONDONTWRITEBYTECODE`` would otherwise make every run compile them again.

Each run starts ``kinoroom serve`` (the console script beside this Python) on a free
port with the embedded defaults, the demo room included, as ``make run`` does:

- **fresh**: on an empty data folder (the database created and migrated, the secret
  made), a new machine's first start;
- **restart**: again on the folder the fresh run left (the database at its head
  revision, the demo room restored), a restart after a crash or an upgrade-free deploy.

The clock runs from just before the process is spawned to the first ``200`` from
``/healthz`` (polled every 5 ms on a raw socket). The banner's moment is reported too
(the services are up; uvicorn listens a moment later), and the CPU time the server had
used by then (user + system, from ``/proc``): start-up is one thread of CPU work, so on
a machine shared with other work the wall time grows while the CPU time stays, and the
CPU time is what an idle machine's wall time comes close to. After the last run the process's
memory map is read: which heavy libraries it loaded before anyone asked for them
(``kinoroom serve`` must not load mediapipe, matplotlib, onnxruntime or torch until a
camera or a report needs them).

- **floor**: `bench/startup_floor.py`, the same libraries (FastAPI, pydantic-settings,
  SQLAlchemy's asyncio engine on SQLite, uvicorn) serving one ``/healthz`` with nothing
  of Kinoroom: what this machine charges any server on this stack. The runs of the three
  kinds alternate, so a machine that slows down for a while slows all three.

**import server.app**: ``python -X importtime -c "import server.app"`` with the
collector paused, as ``kinoroom serve`` imports it: the module's cumulative import time
(interpreter start-up excluded), median over the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HEAVY = ("mediapipe", "matplotlib", "onnxruntime", "torch", "cv2")
PACKAGES = ("server", "narrative", "mobile_bridge", "affect", "genmodels", "web_client")
TARGET_S = 1.0
START_LIMIT_S = 120.0  # a run that has not answered by then failed


def healthy(port: int) -> bool:
    """One ``GET /healthz`` on a raw socket: True on a 200, False if nobody answers yet."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return conn.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def start_once(data_dir: Path, env: dict[str, str], command: list[str]) -> dict[str, object]:
    """Start ``command`` (``kinoroom serve``) on ``data_dir``; time its banner and first
    ``/healthz``."""
    env = env | {"KINOROOM_DATA_DIR": str(data_dir), "KINOROOM_PORT": "0"}
    began = time.perf_counter()
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()  # flushed by `serve` as soon as the services run
        banner_s = time.perf_counter() - began
        found = re.search(r"running at http://[^:]+:(\d+)", banner)
        if found is None:
            raise SystemExit(f"error startup-failed: {command[-1]} printed {banner!r}")
        port = int(found[1])
        while not healthy(port):
            if time.perf_counter() - began > START_LIMIT_S or process.poll() is not None:
                raise SystemExit(f"error startup-failed: {command[-1]} never answered /healthz")
            time.sleep(0.005)
        healthz_s = time.perf_counter() - began
        cpu_s = cpu_seconds(process.pid)
        maps = Path(f"/proc/{process.pid}/maps").read_text()
        loaded = sorted(name for name in HEAVY if f"/{name}/" in maps)
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()
    return {
        "healthz_s": round(healthz_s, 3),
        "banner_s": round(banner_s, 3),
        "cpu_s": round(cpu_s, 3),
        "loaded": loaded,
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds process ``pid`` has used (and its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def import_server_app_s(env: dict[str, str]) -> float:
    """``import server.app``'s own cumulative time, from ``-X importtime``."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import gc; gc.disable(); import server.app"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    found = re.search(r"^import time:\s+\d+ \|\s+(\d+) \| server\.app$", done.stderr, re.M)
    assert found is not None, done.stderr[-2000:]
    return int(found[1]) / 1e6


def figures(values: list[float]) -> dict[str, object]:
    return {
        "median_s": round(statistics.median(values), 3),
        "min_s": round(min(values), 3),
        "max_s": round(max(values), 3),
        "runs_s": [round(v, 3) for v in values],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="starts of each kind")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "startup.json")
    parser.add_argument("--smoke", action="store_true", help="one run of each: does it work?")
    args = parser.parse_args()
    if args.smoke:
        args.runs = 1
    # The defaults, as `make run` has them: none of the caller's KINOROOM_* settings.
    env = {k: v for k, v in os.environ.items() if not k.startswith("KINOROOM_")}
    env.pop("PYTHONASYNCIODEBUG", None)  # asyncio debug mode is for the tests
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", *PACKAGES], env=env, cwd=ROOT, check=True
    )
    serve = [str(Path(sys.executable).with_name("kinoroom")), "serve"]
    floor_command = [sys.executable, str(HERE / "startup_floor.py")]
    fresh, restart, floor, loaded = [], [], [], set()
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="kinoroom-bench-startup-") as tmp:
            first = start_once(Path(tmp), env, serve)
            again = start_once(Path(tmp), env, serve)
            floor.append(start_once(Path(tmp) / "floor", env, floor_command))
        fresh.append(first)
        restart.append(again)
        loaded |= {*first["loaded"], *again["loaded"]}  # type: ignore[misc]
    imports = [import_server_app_s(env) for _ in range(args.runs)]
    result = {
        "benchmark": "startup",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cores": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),  # others' work skews the figures
        "fresh": figures([float(r["healthz_s"]) for r in fresh]),  # type: ignore[arg-type]
        "fresh_banner": figures([float(r["banner_s"]) for r in fresh]),  # type: ignore[arg-type]
        "fresh_cpu": figures([float(r["cpu_s"]) for r in fresh]),  # type: ignore[arg-type]
        "restart": figures([float(r["healthz_s"]) for r in restart]),  # type: ignore[arg-type]
        "restart_cpu": figures([float(r["cpu_s"]) for r in restart]),  # type: ignore[arg-type]
        "floor": figures([float(r["healthz_s"]) for r in floor]),  # type: ignore[arg-type]
        "floor_cpu": figures([float(r["cpu_s"]) for r in floor]),  # type: ignore[arg-type]
        "import_server_app": figures(imports),
        "heavy_modules_loaded": sorted(loaded),
        "target_s": TARGET_S,
        "smoke": args.smoke,
    }
    print(
        f"kinoroom serve → first /healthz, median of {args.runs}: "
        f"fresh data folder {result['fresh']['median_s']} s "  # type: ignore[index]
        f"(banner {result['fresh_banner']['median_s']} s), "  # type: ignore[index]
        f"restart {result['restart']['median_s']} s (target ≤ {TARGET_S} s)"  # type: ignore[index]
    )
    print(
        f"CPU time used by then, median: fresh {result['fresh_cpu']['median_s']} s, "  # type: ignore[index]
        f"restart {result['restart_cpu']['median_s']} s"  # type: ignore[index]
    )
    print(
        f"the same stack with nothing of Kinoroom (bench/startup_floor.py): "
        f"{result['floor']['median_s']} s, CPU {result['floor_cpu']['median_s']} s"  # type: ignore[index]
    )
    print(f"import server.app: median {result['import_server_app']['median_s']} s")  # type: ignore[index]
    print(f"heavy libraries loaded by serve: {', '.join(sorted(loaded)) or 'none'}")
    print(f"load average over the last minute: {result['load_average_1m']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
