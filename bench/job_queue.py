"""Benchmark of the fill-in job queue: jobs/s through Redis, and the round trip of one job.

Run with ``.venv/bin/python bench/job_queue.py [--jobs N] [--workers 1,2] [--out FILE]`` (Redis
at ``--redis``, default redis://127.0.0.1:6379). Prints the figures and writes them as
JSON (default ``bench/results/job_queue.json``).

The backend does nothing (`NoopBackend`), so the figures are the queue's own cost:
the server's XADD, a ``kinoroom worker`` process's XREADGROUP, thread hand-off and
ownership-checked settle, and the server's XREAD and dispatch to the room's listener.

- throughput: N jobs submitted at once to W worker processes (``kinoroom worker
  --concurrency 1``, started and connected before the clock starts), timed from the
  first submit to the last result delivered to the room;
- round trip: one job at a time, submit to result, p50 and p95;
- in-process: the same N jobs through `LocalQueue` with one thread, for comparison.

``--smoke``: 20 jobs to one worker, 3 round trips, to check that it works.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path

from redis.asyncio import Redis

from genmodels.backend import JobContext, Output, WorkerConfig
from genmodels.jobs import Job, Provenance, Result, Update
from genmodels.local_queue import LocalQueue
from genmodels.queue import JobQueue
from genmodels.redis_queue import RedisQueue
from genmodels.redis_streams import StreamKeys

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ROOM = "BENCH"


class NoopBackend:
    """Makes nothing, at once: the queue's cost alone."""

    name = "montage"

    def __init__(self, config: WorkerConfig) -> None:
        self.config = config

    def run(self, job: Job, context: JobContext) -> Output:
        provenance = Provenance(
            backend=job.backend, model="noop", prompt=job.prompt, seed=job.seed, duration_s=0.0
        )
        return Output(media=None, provenance=provenance)


def make_job(i: int) -> Job:
    return Job(
        room=ROOM,
        scene=f"s{i}",
        backend="montage",
        prompt="noop",
        duration_s=1.0,
        seed=i,
        deadline=time.time() + 3600,
    )


class Collector:
    """Counts results for the bench room and wakes the bench when all are in."""

    def __init__(self, queue: JobQueue) -> None:
        self.arrived: dict[str, float] = {}
        self.expected = 0
        self.all_in = asyncio.Event()
        queue.subscribe(ROOM, self.on_update)

    def on_update(self, update: Update) -> None:
        if isinstance(update, Result):
            self.arrived[update.job] = time.perf_counter()
            if len(self.arrived) >= self.expected:
                self.all_in.set()

    async def run(self, queue: JobQueue, jobs: list[Job], timeout_s: float) -> float:
        self.arrived.clear()
        self.all_in.clear()
        self.expected = len(jobs)
        started = time.perf_counter()
        for job in jobs:
            await queue.submit(job)
        async with asyncio.timeout(timeout_s):
            await self.all_in.wait()
        return time.perf_counter() - started


async def start_workers(
    url: str, keys: StreamKeys, count: int, processes: list[asyncio.subprocess.Process]
) -> list[asyncio.Task[None]]:
    """Start ``count`` workers into ``processes``; return once each says it is ready."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KINOROOM_")}
    env |= {"KINOROOM_REDIS_URL": url, "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONASYNCIODEBUG", None)
    args = ["-m", "server.cli", "worker", "--prefix", keys.prefix]
    args += ["--backends", "montage=bench.job_queue:NoopBackend"]
    ready = asyncio.Semaphore(0)

    async def drain(stream: asyncio.StreamReader) -> None:
        async for line in stream:  # one log line per job: read them all, keep none
            if b" ready: backends=" in line:
                ready.release()

    readers = []
    for _ in range(count):
        process = await asyncio.create_subprocess_exec(
            sys.executable, *args, cwd=ROOT, env=env, stderr=asyncio.subprocess.PIPE
        )
        processes.append(process)
        assert process.stderr is not None
        readers.append(asyncio.create_task(drain(process.stderr)))
    async with asyncio.timeout(60):
        for _ in range(count):
            await ready.acquire()
    return readers


async def redis_figures(url: str, jobs: int, workers: int, round_trips: int) -> dict[str, float]:
    keys = StreamKeys(f"bench:{uuid.uuid4().hex}")
    queue = RedisQueue(url, prefix=keys.prefix)
    await queue.start()
    processes: list[asyncio.subprocess.Process] = []
    readers: list[asyncio.Task[None]] = []
    collector = Collector(queue)
    try:
        readers = await start_workers(url, keys, workers, processes)
        seconds = await collector.run(queue, [make_job(i) for i in range(jobs)], 300)
        trips = []
        for i in range(round_trips):
            trips.append(await collector.run(queue, [make_job(i)], 30))
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            await process.wait()
        await asyncio.gather(*readers)
        await queue.close()
        redis = Redis.from_url(url)
        await redis.delete(*keys.all())
        await redis.aclose()
    trips.sort()
    return {
        "workers": workers,
        "jobs": jobs,
        "seconds": round(seconds, 3),
        "jobs_per_s": round(jobs / seconds, 1),
        "round_trip_p50_ms": round(statistics.median(trips) * 1000, 2),
        "round_trip_p95_ms": round(trips[int(0.95 * (len(trips) - 1))] * 1000, 2),
    }


async def local_figures(jobs: int) -> dict[str, float]:
    config = WorkerConfig(media_dir=ROOT / ".kinoroom" / "media")
    queue = LocalQueue(config, 1, {"montage": NoopBackend(config)}, max_pending=jobs)
    await queue.start()
    try:
        seconds = await Collector(queue).run(queue, [make_job(i) for i in range(jobs)], 300)
    finally:
        await queue.close()
    return {"jobs": jobs, "seconds": round(seconds, 3), "jobs_per_s": round(jobs / seconds, 1)}


async def bench(args: argparse.Namespace) -> tuple[list[dict[str, float]], dict[str, float]]:
    runs = [
        await redis_figures(args.redis, args.jobs, workers, args.round_trips)
        for workers in args.workers
    ]
    return runs, await local_figures(args.jobs)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--workers", type=lambda s: [int(w) for w in s.split(",")], default=[1, 2])
    parser.add_argument("--round-trips", type=int, default=200)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "job_queue.json")
    parser.add_argument("--smoke", action="store_true", help="a tiny run: does it work?")
    args = parser.parse_args()
    if args.smoke:
        args.jobs, args.workers, args.round_trips = 20, [1], 3
    runs, local = asyncio.run(bench(args))
    for run in runs:
        print(
            f"redis, {run['workers']} worker process(es): {run['jobs_per_s']:,} jobs/s "
            f"({run['jobs']} no-op jobs in {run['seconds']} s); one job's round trip "
            f"p50 {run['round_trip_p50_ms']} ms, p95 {run['round_trip_p95_ms']} ms"
        )
    print(f"in-process, 1 thread: {local['jobs_per_s']:,} jobs/s")
    result = {
        "benchmark": "queue",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cores": os.cpu_count(),
        "redis": runs,
        "in_process": local,
        "smoke": args.smoke,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
