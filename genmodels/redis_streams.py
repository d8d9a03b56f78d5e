"""The Redis engine's keys and wire format, shared by the server and the workers.

Every key starts with a prefix (default ``{kinoroom}:gen``; tests use their own). The
braces are a Redis Cluster hash tag: every key of the queue hashes to one slot, as the
Lua scripts that touch several of them need; a single Redis ignores them:

======================  ======  ==========================================================
key                     type    holds
======================  ======  ==========================================================
``P:jobs:BACKEND``      stream  one entry per job (``job``: `Job` JSON), one stream per
                                backend, so a CPU worker never takes a diffusion job
``P:workers``           group   the consumer group on every jobs stream; each worker is
                                one consumer, named by its worker id
``P:updates``           stream  progress and results (``room``, ``update``: JSON),
                                capped at about ``UPDATES_MAXLEN`` entries
``P:dead``              stream  jobs given up on: ``job``, ``reason``, ``deliveries``,
                                ``stream``, ``entry``, ``worker``
``P:errors``            hash    jobs entry id -> the last unexpected error, read into the
                                dead letter's reason
======================  ======  ==========================================================

A jobs entry is deleted once it is acknowledged: the streams hold the work still to do,
and a group created late (``XGROUP CREATE ... 0 MKSTREAM``, by whichever side starts
first) sees every job submitted before it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import cast, get_args

from pydantic import TypeAdapter, ValidationError
from redis.asyncio import Redis
from redis.exceptions import ResponseError
from redis.typing import EncodableT

from genmodels.jobs import Job, Update
from narrative.story import Backend

BACKENDS: tuple[str, ...] = get_args(Backend)
DEFAULT_PREFIX = "{kinoroom}:gen"
UPDATES_MAXLEN = 10_000
JOBS_MAXLEN = 10_000  # a safety cap only: acknowledged jobs are deleted at once

_UPDATE: TypeAdapter[Update] = TypeAdapter(Update)

Fields = Mapping[str, str]  # an entry as read (decode_responses=True)
Entry = tuple[str, Fields]
Encoded = dict[EncodableT, EncodableT]  # an entry to write


@dataclass(frozen=True, slots=True)
class StreamKeys:
    prefix: str = DEFAULT_PREFIX

    def jobs(self, backend: str) -> str:
        return f"{self.prefix}:jobs:{backend}"

    @property
    def group(self) -> str:
        return f"{self.prefix}:workers"

    @property
    def updates(self) -> str:
        return f"{self.prefix}:updates"

    def asked(self, job: str) -> str:
        """Set when ``job`` is submitted, so that a second submission of its id (a room's
        new owner adopting it) is dropped; it expires a while after the job's deadline."""
        return f"{self.prefix}:asked:{job}"

    @property
    def dead(self) -> str:
        return f"{self.prefix}:dead"

    @property
    def errors(self) -> str:
        return f"{self.prefix}:errors"

    def all(self) -> list[str]:
        """Every key under the prefix (tests delete them)."""
        return [*(self.jobs(b) for b in BACKENDS), self.updates, self.dead, self.errors]


def encode_job(job: Job) -> Encoded:
    return {"job": job.model_dump_json()}


def decode_job(fields: Fields) -> Job:
    """Raises: ValueError: the entry holds no valid job."""
    try:
        return Job.model_validate_json(fields["job"])
    except (KeyError, ValidationError) as exc:
        raise ValueError(f"not a job entry: {exc}") from exc


def encode_update(update: Update) -> Encoded:
    return {"room": update.room, "update": update.model_dump_json()}


def decode_update(fields: Fields) -> Update:
    """Raises: ValueError: the entry holds no valid update."""
    try:
        return _UPDATE.validate_json(fields["update"])
    except (KeyError, ValidationError) as exc:
        raise ValueError(f"not an update entry: {exc}") from exc


def connect(url: str) -> Redis:
    """A client for ``url`` speaking RESP2, the reply shapes this engine parses.

    (redis-py's replies to XREAD differ between RESP2 and RESP3; pinning one keeps the
    parsing here to one shape whatever the library's default.)
    """
    return Redis.from_url(url, decode_responses=True, protocol=2)


def stream_entries(reply: object) -> list[tuple[str, Entry]]:
    """``(stream, (id, fields))`` from a RESP2 XREAD/XREADGROUP reply.

    The reply is ``[[stream, [(id, fields), ...]], ...]``, or empty on a timeout; an
    entry deleted while pending comes back with no fields (``{}`` here).
    """
    found: list[tuple[str, Entry]] = []
    for stream, entries in cast(list[tuple[str, list[tuple[str, Fields | None]]]], reply or []):
        found.extend((stream, (entry_id, fields or {})) for entry_id, fields in entries)
    return found


async def ensure_groups(redis: Redis, keys: StreamKeys, backends: Iterable[str]) -> None:
    """Create the consumer group on each jobs stream, unless it is there already."""
    for backend in backends:
        try:
            await redis.xgroup_create(keys.jobs(backend), keys.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise


__all__ = [
    "BACKENDS",
    "DEFAULT_PREFIX",
    "JOBS_MAXLEN",
    "UPDATES_MAXLEN",
    "Encoded",
    "Entry",
    "StreamKeys",
    "connect",
    "decode_job",
    "decode_update",
    "encode_job",
    "encode_update",
    "ensure_groups",
    "stream_entries",
]
