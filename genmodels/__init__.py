"""Generated fill-in scenes and the writers' script assistant: jobs with deadlines and
fallbacks, the job queue (in-process or Redis Streams) and its workers, generation
backends, clip assembly, provenance, and draft review.

May import torch, transformers, diffusers, av, numpy and ``narrative``; never ``server``.
torch, transformers and diffusers are imported lazily, by the code that runs a job or a
draft, so that ``kinoroom serve`` (which imports the queues) never loads them.

- contracts: `jobs` (Job, Progress, Result, Provenance), `backend` (the Backend protocol,
  WorkerConfig, GenerationError, StyleRejected), `queue` (the JobQueue protocol);
- queues and workers: `local_queue`, `redis_queue` (+ `redis_streams`, `redis_claims`,
  `redis_worker`), `worker` (one job to one Result), `worker_main` (``kinoroom worker``),
  `backends` (the lazy registry);
- backends: `montage` (+ `shots`, `cards`), `caption` (the ``text`` backend), `diffusion`;
  `clips` reads and writes clips in the media folder, `retention` deletes old ones;
  `style` and `anchors` are the style anchor;
- the script assistant: `text` (the causal LM), `drafts`, `diversity`.
"""

__all__: list[str] = []
