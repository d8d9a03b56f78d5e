"""What a cluster needs before a node starts: one Redis, one PostgreSQL, one secret.

Every node of a Kinoroom must see the same rooms, the same database and sign tokens with
the same key: a phone may join on one node and reconnect on another. SQLite is one
machine's file and a generated secret is one machine's own, so a node refuses them with
one line naming the setting (`NetworkSetupError`, printed by the CLI).
"""

from __future__ import annotations

from server.network.errors import NetworkSetupError
from server.settings import Settings


def check_cluster_settings(settings: Settings) -> None:
    """Raises:
    NetworkSetupError: ``cluster-needs-redis``, ``cluster-needs-postgresql``,
        ``cluster-needs-secret``.
    """
    if not settings.cluster:
        return
    if not settings.redis_url:
        raise NetworkSetupError(
            "cluster-needs-redis", "REDIS_URL", "a cluster's nodes meet in Redis; set its URL"
        )
    url = settings.resolved_database_url()
    if not url.startswith("postgresql"):
        raise NetworkSetupError(
            "cluster-needs-postgresql",
            "DATABASE_URL",
            "every node must read and write the same rooms: SQLite is one machine's file; "
            "set a PostgreSQL URL (postgresql+asyncpg://user@host/db)",
        )
    if settings.secret_key is None:
        raise NetworkSetupError(
            "cluster-needs-secret",
            "SECRET_KEY",
            "every node must sign tokens with the same key (a phone may reconnect through "
            "any node); a generated key is this machine's alone",
        )


__all__ = ["check_cluster_settings"]
