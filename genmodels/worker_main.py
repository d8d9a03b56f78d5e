"""``kinoroom worker``: one process running fill-in jobs from Redis until told to stop.

The command line (`server.cli`) reads the settings and calls `run_worker`; this module
owns the process: the event loop, the signals, the exit. SIGTERM or SIGINT stops taking
jobs; the running ones finish (at most ``grace_s``) and the process exits 0. A job that
outlives the grace period is given up on: its thread cannot be stopped, so the process
leaves with ``os._exit`` rather than wait for it, and another worker reclaims the job
once its claim goes idle.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Mapping

from genmodels.backend import WorkerConfig
from genmodels.backends import BackendRegistry
from genmodels.redis_streams import DEFAULT_PREFIX
from genmodels.redis_worker import RedisWorker


def run_worker(
    url: str,
    config: WorkerConfig,
    *,
    specs: Mapping[str, str],
    concurrency: int = 1,
    prefix: str = DEFAULT_PREFIX,
    claim_idle_s: float = 5.0,
    max_deliveries: int = 3,
    grace_s: float = 30.0,
) -> int:
    """Run a worker in this process until SIGTERM/SIGINT; returns the exit status (0).

    Args:
        url: the Redis URL.
        config: what the backends are built from.
        specs: backend name -> ``"module:Class"`` (`genmodels.backends.parse_backends`).
        concurrency, prefix, claim_idle_s, max_deliveries, grace_s: see `RedisWorker`.

    Raises:
        redis.exceptions.RedisError: Redis is unreachable at the start.
    """
    worker = RedisWorker(
        url,
        BackendRegistry(config, specs),
        config,
        prefix=prefix,
        concurrency=concurrency,
        claim_idle_s=claim_idle_s,
        max_deliveries=max_deliveries,
        grace_s=grace_s,
    )
    asyncio.run(_until_signalled(worker))
    if worker.abandoned:
        logging.shutdown()
        os._exit(0)  # threads still running a backend would hold the interpreter's exit
    return 0


async def _until_signalled(worker: RedisWorker) -> None:
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for signum in signals:
        loop.add_signal_handler(signum, worker.stop)
    try:
        await worker.run()
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)


__all__ = ["run_worker"]
