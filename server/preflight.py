"""What ``kinoroom`` checks before it serves: every setting readable, every folder
writable, the port free, the database and Redis reachable.

A bad setting is a person's typo, not a bug: it ends the command with one line,
``error CODE: KINOROOM_X: why`` (`SettingError`), never a traceback, and a non-zero exit
status. 2 means the value itself is wrong (it can never work: a wrong type, a bad URL,
an unknown policy); 1 means the value is fine but the machine disagrees right now (a
folder that cannot be written, a port in use, a database or Redis that does not answer).

    SettingError(code, variable, reason, exit_status)
      bad-setting           not the type or range the setting takes (exit 2)
      bad-url               a URL that cannot be one (exit 2)
      unknown-policy        KINOROOM_DEMO_POLICY names no policy (exit 2)
      folder-unwritable     a folder it must write to cannot be written (exit 1)
      model-missing         a configured model file is not there (exit 1)
      media-not-found       the media folder to tidy does not exist (exit 1)
      server-unreachable    `kinoroom loadtest --url` does not answer (exit 1)
      port-in-use           another program listens on KINOROOM_PORT (exit 1)
      port-denied           the port needs privileges this process lacks (exit 1)
      bad-host              KINOROOM_HOST is no address of this machine (exit 1)
      database-unreachable  KINOROOM_DATABASE_URL does not answer, or refuses us (exit 1)
      redis-unreachable     KINOROOM_REDIS_URL does not answer (exit 1)

The checks cost start-up nothing measurable on the embedded defaults (a probe file in
the data folder); a PostgreSQL database or Redis, when configured, is connected to once.
"""

from __future__ import annotations

import asyncio
import errno
import re
import socket
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import ValidationError
from pydantic_settings import SettingsError

from server.settings import Settings

CONNECT_TIMEOUT_S = 10.0
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


class SettingError(Exception):
    """A setting ``kinoroom`` cannot run with.

    Attributes:
        code: the stable code (the module docstring lists them).
        variable: what to fix: ``KINOROOM_X``, or the command-line option that set it.
        reason: why, in words, with the value when it helps.
        exit_status: 2 for a value that can never work, 1 for one the machine refuses now.
    """

    def __init__(self, code: str, variable: str, reason: str, *, exit_status: int = 2) -> None:
        self.code, self.variable, self.reason = code, variable, reason
        self.exit_status = exit_status
        super().__init__(f"{code}: {variable}: {reason}")


def variable(field: str) -> str:
    return f"KINOROOM_{field.upper()}"


def load_settings(**overrides: object) -> Settings:
    """`Settings` from the environment and ``overrides`` (command-line options).

    Raises:
        SettingError: ``bad-setting`` naming the first variable that does not parse.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = error.get("loc") or ("?",)
        field = str(loc[0])
        where = f"--{field.replace('_', '-')}" if field in overrides else variable(field)
        got = error.get("input")
        shown = f" (got {got!r})" if isinstance(got, str | int | float) else ""
        item = f" (item {loc[1]})" if len(loc) > 1 else ""
        message = str(error["msg"]).removeprefix("Value error, ")
        raise SettingError("bad-setting", where, f"{message}{item}{shown}") from None
    except SettingsError as exc:  # pydantic-settings could not decode a value at all
        found = re.search(r'field "(\w+)"', str(exc))
        where = variable(found[1]) if found else "KINOROOM_*"
        raise SettingError("bad-setting", where, "cannot be read (see the README)") from None


def check_settings(settings: Settings) -> None:
    """Everything that can be checked without the network: URLs, folders, names.

    The network's own settings (ICE, proxies, the public URL) are checked by
    `server.network.checks`, with aiortc's parser, when ``serve`` starts.

    Raises:
        SettingError: the first setting that cannot work.
    """
    _check_urls(settings)
    if settings.log_level.upper() not in LOG_LEVELS:
        reason = f"{settings.log_level!r} is not one of {', '.join(LOG_LEVELS)}"
        raise SettingError("bad-setting", variable("log_level"), reason)
    if settings.demo_room:
        from narrative.errors import PolicyError
        from narrative.policies import policy_from_spec

        try:
            policy_from_spec({"name": settings.demo_policy})
        except PolicyError as exc:
            raise SettingError("unknown-policy", variable("demo_policy"), exc.message) from None
    writable_folder(settings.data_dir, variable("data_dir"))
    media = settings.resolved_media_dir()
    if media.exists() and not media.is_dir():
        name = variable("media_dir" if settings.media_dir is not None else "data_dir")
        raise SettingError(
            "folder-unwritable", name, f"{media} is a file, not a folder", exit_status=1
        )
    for field in ("landmark_model", "fer_model"):
        path = getattr(settings, field)
        if path is not None and not Path(path).is_file():
            raise SettingError(
                "model-missing", variable(field), f"no such file: {path}", exit_status=1
            )


def _check_urls(settings: Settings) -> None:
    for origin in settings.allowed_origins:
        _web_url(origin, variable("allowed_origins"))
    if settings.database_url:
        _database_url(settings.database_url)
    if settings.redis_url and urlsplit(settings.redis_url).scheme not in (
        "redis",
        "rediss",
        "unix",
    ):
        reason = f"{settings.redis_url!r} is not a redis://, rediss:// or unix:// URL"
        raise SettingError("bad-url", variable("redis_url"), reason)


def _web_url(url: str, name: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingError("bad-url", name, f"{url!r} is not an http:// or https:// URL")
    try:
        parts.port  # noqa: B018 (a port that is not a number raises here)
    except ValueError:
        raise SettingError("bad-url", name, f"{url!r} has a port that is not a number") from None


def _database_url(url: str) -> None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    name = variable("database_url")
    try:
        parsed = make_url(url)
    except ArgumentError:
        reason = (
            "not a database URL: use sqlite+aiosqlite:///FILE or postgresql+asyncpg://user@host/db"
        )
        raise SettingError("bad-url", name, reason) from None
    drivers = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}
    backend = parsed.get_backend_name()
    if backend not in drivers or parsed.get_driver_name() != drivers[backend]:
        shown = parsed.render_as_string(hide_password=True)
        reason = f"{shown!r}: use sqlite+aiosqlite:///FILE or postgresql+asyncpg://user@host/db"
        raise SettingError("bad-url", name, reason)


def writable_folder(folder: Path, name: str) -> None:
    """Create ``folder`` if needed and write a file in it, or raise ``folder-unwritable``."""
    probe = folder / f".kinoroom-probe-{uuid.uuid4().hex}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        reason = f"cannot write to {folder}: {exc.strerror or exc}"
        raise SettingError("folder-unwritable", name, reason, exit_status=1) from None


def listen(settings: Settings, bind: Callable[[Settings], socket.socket]) -> socket.socket:
    """``bind(settings)``, with what can go wrong said as a `SettingError`."""
    try:
        sock = bind(settings)
    except socket.gaierror as exc:
        reason = f"cannot listen on {settings.host!r}: {exc.strerror}"
        raise SettingError("bad-host", variable("host"), reason, exit_status=1) from None
    except OSError as exc:
        where = f"{settings.host}:{settings.port}"
        if exc.errno == errno.EADDRINUSE:
            reason = (
                f"{where} is already in use by another program (KINOROOM_PORT=0: any free port)"
            )
            raise SettingError("port-in-use", variable("port"), reason, exit_status=1) from None
        if exc.errno == errno.EACCES:
            reason = f"listening on {where} needs privileges this process lacks"
            raise SettingError("port-denied", variable("port"), reason, exit_status=1) from None
        reason = f"cannot listen on {where}: {exc.strerror or exc}"
        raise SettingError("bad-host", variable("host"), reason, exit_status=1) from None
    return sock


async def check_services(settings: Settings) -> None:
    """Connect once to a configured PostgreSQL database and Redis.

    Raises:
        SettingError: ``database-unreachable`` or ``redis-unreachable``.
    """
    if settings.database_url and not settings.database_url.startswith("sqlite"):
        await _check_database(settings.database_url)
    if settings.redis_url:
        await _check_redis(settings.redis_url)


async def _check_database(url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from server.persistence.engine import make_engine

    shown = make_url(url).render_as_string(hide_password=True)
    engine = make_engine(url)
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT_S), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:  # the driver's own errors: refused, no such database, auth…
        reason = f"cannot use {shown}: {_first_line(exc)}"
        raise SettingError(
            "database-unreachable", variable("database_url"), reason, exit_status=1
        ) from None
    finally:
        await engine.dispose()


async def _check_redis(url: str) -> None:
    from redis.asyncio import Redis

    try:
        client = Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_S)
    except ValueError as exc:
        raise SettingError("bad-url", variable("redis_url"), str(exc)) from None
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            await client.ping()
    except Exception as exc:  # redis' ConnectionError, an auth error, a timeout
        reason = f"no answer from {_redacted(url)}: {_first_line(exc)}"
        raise SettingError(
            "redis-unreachable", variable("redis_url"), reason, exit_status=1
        ) from None
    finally:
        await client.aclose()


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


def _first_line(exc: BaseException) -> str:
    """An exception's message on one line (drivers like to add a second)."""
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, TimeoutError):
        text = f"no answer in {CONNECT_TIMEOUT_S:g} s"
    line = text.splitlines()[0]
    return re.sub(r"^\([\w.]+\) ", "", line)  # SQLAlchemy's "(driver.Error) " prefix


__all__ = [
    "SettingError",
    "check_services",
    "check_settings",
    "listen",
    "load_settings",
    "writable_folder",
]
