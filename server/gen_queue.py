"""The fill-in job queue the server's rooms submit to (DESIGN.md, "Scale").

In-process by default (``KINOROOM_GEN_WORKERS`` threads of this process run the jobs);
Redis Streams when ``KINOROOM_REDIS_URL`` is set (``kinoroom worker`` processes run them).
Neither engine imports torch: backends are imported by the worker that runs a job.
"""

from __future__ import annotations

from genmodels.backend import WorkerConfig
from genmodels.queue import JobQueue
from server.settings import Settings


def worker_config(settings: Settings, device: str | None = None) -> WorkerConfig:
    """What a worker's backends are built from (``device`` overrides the setting)."""
    return WorkerConfig(
        media_dir=settings.resolved_media_dir(),
        text_model=settings.text_model,
        diffusion_model=settings.diffusion_model,
        device=device or settings.gen_device,
        diffusion_steps=settings.diffusion_steps,
        diffusion_size=None if settings.diffusion_size is None else (settings.diffusion_size,) * 2,
    )


def open_queue(settings: Settings) -> JobQueue:
    """The engine ``settings`` ask for; call ``start()`` on it before use."""
    if settings.redis_url:
        from genmodels.redis_queue import RedisQueue

        return RedisQueue(settings.redis_url, prefix=settings.redis_prefix)
    from genmodels.local_queue import LocalQueue

    return LocalQueue(worker_config(settings), settings.gen_workers)


__all__ = ["open_queue", "worker_config"]
