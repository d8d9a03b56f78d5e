"""The processes of a cluster: who they are, and the heartbeat `kinoroom cluster status` reads.

Each process (a *node*) names itself once (host, process id and a random tail, so a
restarted process is a new node) and every second writes its heartbeat to
``PREFIX:node:NODE``: where it listens, the rooms it owns and holds, its sockets. The
key expires after three missed beats, so the status shows only live nodes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.cluster.leases import Keys

log = logging.getLogger(__name__)

BEAT_S = 1.0


def node_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}"


@dataclass(frozen=True, slots=True)
class Heartbeat:
    node: str
    url: str  # where the node listens
    started: float  # UNIX time
    owned: list[str] = field(default_factory=list)  # rooms it owns
    held: int = 0  # rooms it holds pages of
    sockets: dict[str, int] = field(default_factory=dict)  # its pages, by role
    at: float = 0.0  # UNIX time of the beat


async def beat(redis: Redis, keys: Keys, now: Callable[[], Heartbeat]) -> None:
    """Write this node's heartbeat every second until cancelled."""
    failing = False
    while True:
        heartbeat = now()
        try:
            await redis.set(
                keys.node(heartbeat.node), json.dumps(asdict(heartbeat)), px=int(3000 * BEAT_S)
            )
            failing = False
        except RedisError as exc:
            if not failing:
                log.warning("redis-unreachable: no heartbeat (%s)", exc)
            failing = True
        await asyncio.sleep(BEAT_S)


async def nodes(redis: Redis, keys: Keys) -> list[Heartbeat]:
    """Every live node's last heartbeat, by node name."""
    names = [key async for key in redis.scan_iter(match=keys.nodes(), count=500)]
    values = cast(list[bytes | None], await redis.mget(names)) if names else []
    beats = []
    for value in values:
        if value is not None:
            beats.append(Heartbeat(**json.loads(value)))
    return sorted(beats, key=lambda b: b.node)


def status_lines(beats: list[Heartbeat], now: float | None = None) -> list[str]:
    """`kinoroom cluster status` as text: one line per node, then the totals."""
    now = time.time() if now is None else now
    if not beats:
        return ["no Kinoroom node is running on this Redis (no heartbeat)"]
    lines = []
    for b in beats:
        sockets = ", ".join(f"{n} {role}s" for role, n in sorted(b.sockets.items())) or "none"
        owned = ", ".join(b.owned) if b.owned else "none"
        lines.append(
            f"{b.node}  {b.url}  up {now - b.started:.0f} s, beat {now - b.at:.1f} s ago  "
            f"owns {len(b.owned)} ({owned}), holds {b.held}, sockets: {sockets}"
        )
    total = sum(sum(b.sockets.values()) for b in beats)
    lines.append(f"{len(beats)} nodes, {sum(len(b.owned) for b in beats)} rooms, {total} sockets")
    return lines


async def cluster_status(url: str, prefix: str) -> list[str]:
    """`kinoroom cluster status`'s lines, read from the Redis at ``url``."""
    redis = Redis.from_url(url)
    try:
        return status_lines(await nodes(redis, Keys(prefix)))
    except RedisError as exc:
        return [f"error redis-unreachable: KINOROOM_REDIS_URL: {exc}"]
    finally:
        await redis.aclose()


__all__ = ["Heartbeat", "beat", "cluster_status", "node_name", "nodes", "status_lines"]
