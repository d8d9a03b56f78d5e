"""Generated fill-in scenes and the writers' script assistant: jobs with deadlines and
fallbacks, the job queue (in-process or Redis Streams) and its workers, generation
backends, clip assembly, provenance, and draft review.

May import torch, transformers, diffusers, av, numpy and ``narrative``; never ``server``.
Nothing is here yet: the generated fill-in scenes issue fills it.
"""

__all__: list[str] = []
