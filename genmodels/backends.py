"""The backend registry: which class makes each kind of job, imported on first use.

A worker serves a set of backend names (``montage``, ``text``, ``diffusion``), each
bound to a ``"module:Class"`` spec. Nothing is imported when the registry is built:
``kinoroom serve`` builds one for its in-process queue and must never import torch, so
the text and diffusion modules (which do) are imported by `BackendRegistry.get` the
first time a job needs them, from the worker thread that runs that job. A module or
class that is missing, or that fails to import or construct (torch not installed, a
CUDA library missing), becomes `GenerationError` code ``backend-unavailable``: the job
fails, its room plays the fallback, and the worker carries on with the other backends.
A failure is not cached, so a worker picks up a module installed after it started.

Tests pass instances instead of specs (``{"montage": FakeBackend(config)}``); a worker
started from the command line can bind a name to any importable class with
``--backends montage=tests.genmodels.queue_backends:SleepBackend``.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping
from typing import cast

from genmodels.backend import Backend, GenerationError, WorkerConfig

DEFAULT_SPECS: Mapping[str, str] = {
    "montage": "genmodels.montage:MontageBackend",
    "text": "genmodels.caption:CaptionBackend",
    "diffusion": "genmodels.diffusion:DiffusionBackend",
}


def parse_backends(text: str) -> dict[str, str]:
    """Parse ``--backends``: comma-separated ``NAME`` or ``NAME=module:Class``.

    Args:
        text: e.g. ``"montage,text"`` or ``"montage=pkg.mod:Fake,diffusion"``.

    Returns:
        Name -> ``"module:Class"``, in the order given.

    Raises:
        ValueError: an empty list, an unknown name without a spec, a spec without
            ``module:Class``, or a name given twice.
    """
    specs: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, _, spec = item.partition("=")
        name = name.strip()
        if not spec:
            if name not in DEFAULT_SPECS:
                known = ", ".join(DEFAULT_SPECS)
                raise ValueError(f"unknown backend {name!r} (known: {known}; or NAME=module:Class)")
            spec = DEFAULT_SPECS[name]
        module, _, cls = spec.strip().partition(":")
        if not name or not module or not cls:
            raise ValueError(f"{item!r}: expected NAME or NAME=module:Class")
        if name in specs:
            raise ValueError(f"backend {name!r} given twice")
        specs[name] = f"{module}:{cls}"
    if not specs:
        raise ValueError("no backend given")
    return specs


class BackendRegistry:
    """Backend instances by name, built lazily and then shared by every job.

    Thread-safe: two worker threads asking for the same backend at once build it once.
    A backend instance itself is called from several threads when a worker runs jobs
    concurrently; backends keep per-job state in the job's call, not on ``self``.
    """

    def __init__(
        self,
        config: WorkerConfig,
        specs: Mapping[str, str] | None = None,
        instances: Mapping[str, Backend] | None = None,
    ) -> None:
        """Args:
        config: what every backend is built from.
        specs: name -> ``"module:Class"``; default `DEFAULT_SPECS`, or none at all
            when ``instances`` is given.
        instances: ready backends (tests), served as they are.
        """
        if specs is None:
            specs = {} if instances is not None else DEFAULT_SPECS
        self._config = config
        self._specs = dict(specs)
        self._instances: dict[str, Backend] = dict(instances or {})
        self._lock = threading.Lock()

    @property
    def names(self) -> tuple[str, ...]:
        """Every backend this registry serves (built or not)."""
        return tuple(dict.fromkeys([*self._instances, *self._specs]))

    def get(self, name: str) -> Backend:
        """The backend called ``name``, importing and building it on first use.

        Raises:
            GenerationError: code ``backend-unavailable`` when this registry does not
                serve ``name``, or its module or class is missing or fails to import or
                construct.
        """
        with self._lock:
            backend = self._instances.get(name)
            if backend is None:
                backend = self._build(name)
                self._instances[name] = backend
            return backend

    def _build(self, name: str) -> Backend:
        spec = self._specs.get(name)
        if spec is None:
            served = ", ".join(self.names) or "none"
            raise GenerationError(
                "backend-unavailable", f"this worker does not run {name!r} (serves: {served})"
            )
        module_name, _, class_name = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # ImportError, or whatever torch raises when it cannot load
            raise GenerationError(
                "backend-unavailable", f"{name}: cannot import {module_name}: {exc}"
            ) from exc
        cls = getattr(module, class_name, None)
        if not callable(cls):
            raise GenerationError(
                "backend-unavailable", f"{name}: {module_name} has no class {class_name}"
            )
        try:
            return cast(Callable[[WorkerConfig], Backend], cls)(self._config)
        except GenerationError:
            raise
        except Exception as exc:
            raise GenerationError(
                "backend-unavailable", f"{name}: {spec} could not be built: {exc}"
            ) from exc


__all__ = ["DEFAULT_SPECS", "BackendRegistry", "parse_backends"]
