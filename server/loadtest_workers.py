"""The load test's bot processes: each joins, connects and runs its share of the phones.

A worker is started by `server.loadtest` (multiprocessing, spawn) with a `Share`; it
runs its own event loop (uvloop where installed) and reports on a queue as each phase
ends: ``("joined", index, Phase)``, ``("connected", index, Phase)``, then
``("result", index, {...})`` with every bot's report, or ``("failed", index, repr)``.
Each socket is a file: a worker lifts its open-file limit first. Once its phones are
connected it freezes what it allocated (`gc.freeze`): thousands of clients are millions
of objects, and a full collection of them would pause the bots for a second mid-vote
and charge that to the server's latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing
import random
import resource
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from mobile_bridge.bots import Persona, run_bot
from mobile_bridge.client import PhoneClient
from mobile_bridge.join import JoinResult, join_room
from mobile_bridge.reconnect import ClientError

T = TypeVar("T")
IN_FLIGHT_PER_PROC = 32  # joins or connects each process keeps going at once
SYNC_PINGS = 4  # clock-sync pings each phone sends once connected


@dataclass(frozen=True, slots=True)
class Share:
    """One worker process's phones and what it needs to know."""

    index: int
    url: str
    room: str
    first: int  # phone numbers first .. first + count - 1
    count: int
    seed: int
    vote_timeout_s: float  # how long a phone waits for its vote and the decision


@dataclass(slots=True)
class Phase:
    ok: int = 0
    started: float = 0.0  # time.time()
    finished: float = 0.0


def event_loop_run(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on uvloop where it is installed: the bots' own CPU time is in every
    figure they measure, and uvloop's sockets cost a fraction of asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def raise_fd_limit() -> int:
    """Lift this process's open-file soft limit to its hard limit (a socket is a file)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def work(share: Share, results: multiprocessing.Queue[tuple[str, int, Any]]) -> None:
    raise_fd_limit()
    try:
        outcome = event_loop_run(_phones(share, results))
    except BaseException as exc:
        results.put(("failed", share.index, repr(exc)))
        raise
    results.put(("result", share.index, outcome))


async def _phones(share: Share, results: multiprocessing.Queue[tuple[str, int, Any]]) -> Any:
    errors: Counter[str] = Counter()
    in_flight = asyncio.Semaphore(IN_FLIGHT_PER_PROC)
    numbers = range(share.first, share.first + share.count)
    limits = httpx.Limits(
        max_connections=IN_FLIGHT_PER_PROC, max_keepalive_connections=IN_FLIGHT_PER_PROC
    )

    async def join(number: int, http: httpx.AsyncClient) -> JoinResult | None:
        async with in_flight:
            try:
                return await join_room(share.url, share.room, f"load-{number}", http=http)
            except ClientError as exc:
                errors[f"join:{exc.code}"] += 1
                return None

    joins = Phase(started=time.time())
    async with httpx.AsyncClient(trust_env=False, limits=limits, timeout=60.0) as http:
        seats = await asyncio.gather(*(join(n, http) for n in numbers))
    joins.finished, joins.ok = time.time(), sum(s is not None for s in seats)
    results.put(("joined", share.index, joins))

    async def connect(number: int, seat: JoinResult) -> PhoneClient | None:
        client = PhoneClient(
            share.url, share.room, seat.token, timeout_s=60.0,
            rng=random.Random(share.seed + number), name="kinoroom-loadtest",
        )  # fmt: skip
        async with in_flight:
            try:
                await client.connect()
                # As a phone page does on connecting: its clock (and the server's bound on
                # it, which judges when its vote was cast) from a few pings.
                await client.sync_clock(SYNC_PINGS)
                return client
            except (ClientError, TimeoutError) as exc:
                errors[f"connect:{getattr(exc, 'code', 'timeout')}"] += 1
                await client.close()
                return None

    connects = Phase(started=time.time())
    clients = [
        c
        for c in await asyncio.gather(
            *(connect(n, s) for n, s in zip(numbers, seats, strict=True) if s is not None)
        )
        if c is not None
    ]
    connects.finished, connects.ok = time.time(), len(clients)
    gc.collect()  # what the clients hold lives to the end: out of the collector's sight
    gc.freeze()
    results.put(("connected", share.index, connects))
    try:
        reports = await asyncio.gather(
            *(
                run_bot(
                    client,
                    Persona.RANDOM,
                    random.Random(share.seed * 1_000_003 + n),
                    max_votes=1,
                    timeout_s=share.vote_timeout_s,
                )
                for n, client in zip(numbers, clients, strict=False)
            )
        )
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    return {"joins": joins, "connects": connects, "errors": dict(errors), "reports": reports}


__all__ = ["IN_FLIGHT_PER_PROC", "Phase", "Share", "event_loop_run", "raise_fd_limit", "work"]
