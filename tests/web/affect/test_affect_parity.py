"""The browser's affect modules compute what the Python cores compute.

The browser modules (`web_client/affect/*.js`) and `affect/` get the same inputs
(blendshapes, transformation matrices, a baseline's readings, frames, skin-colour traces,
a scripted face sequence) and must agree; the vendored MediaPipe runtime and the
server's must read the same astronaut alike.
"""

from __future__ import annotations

import base64
import math
import time
from typing import Any

import numpy as np
import pytest
from skimage import data

from affect import appraisal, quality, rppg
from affect.baseline import Baseline
from affect.landmarks import FaceMesh, Landmarker
from affect.viewer import ViewerAnalysis
from tests.affect.synthetic_face import SIGNATURE
from tests.server.conftest import LiveServer
from tests.web.conftest import TIMEOUT_MS, Pages

pytestmark = pytest.mark.asyncio
WAIT: dict[str, Any] = {"timeout": TIMEOUT_MS}

BLENDSHAPES = [
    "browDownLeft", "browDownRight", "browInnerUp", "eyeBlinkLeft", "eyeBlinkRight",
    "eyeLookDownLeft", "eyeLookDownRight", "eyeLookInLeft", "eyeLookInRight",
    "eyeLookOutLeft", "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight", "eyeWideLeft",
    "eyeWideRight", "jawOpen", "mouthFrownLeft", "mouthFrownRight", "mouthSmileLeft",
    "mouthSmileRight", "noseSneerLeft", "noseSneerRight",
]  # fmt: skip


def rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Rz(roll)·Ry(yaw)·Rx(pitch), degrees."""
    y, p, r = (math.radians(a) for a in (yaw, pitch, roll))
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    return rz @ ry @ rx


def b64(frame: np.ndarray) -> dict[str, Any]:
    return {
        "rgb": base64.b64encode(np.ascontiguousarray(frame).tobytes()).decode(),
        "width": frame.shape[1],
        "height": frame.shape[0],
    }


class ScriptedLandmarker:
    """Stands in for `Landmarker` in `ViewerAnalysis`: returns the scripted meshes."""

    def __init__(self, meshes: list[FaceMesh | None]) -> None:
        self.meshes = iter(meshes)

    def detect(self, frame: np.ndarray) -> FaceMesh | None:
        return next(self.meshes)


def scripted_faces(rng: np.random.Generator) -> tuple[list[dict[str, Any]], list[FaceMesh | None]]:
    """~11 s of a 96×72 camera at 30 fps: a skin-coloured face pulsing at 66 bpm, analysed
    every 6th frame; it smiles more and more, jumps once (moving), vanishes for a while."""
    height, width = 72, 96
    yy, xx = np.mgrid[0:height, 0:width]
    ring = np.stack(
        [
            48 + 22 * np.cos(np.linspace(0, 2 * np.pi, 478)),
            36 + 28 * np.sin(np.linspace(0, 6, 478)),
        ],
        axis=1,
    )
    steps: list[dict[str, Any]] = []
    meshes: list[FaceMesh | None] = []
    for i in range(11 * 30):
        t = i / 30 + rng.normal(0, 0.002)
        shift = 30.0 if 120 <= i < 126 else 0.0  # a jump: flagged moving
        gone = 290 <= i < 310
        oval = ((xx - 48 - shift) / 22) ** 2 + ((yy - 36) / 28) ** 2 <= 1
        pulse = 0.01 * math.sin(2 * math.pi * 66 / 60 * t) * SIGNATURE
        skin = np.array([185.0, 135.0, 115.0]) * (1 + pulse) * (1 + 0.02 * math.sin(0.8 * t))
        frame = np.where(oval[..., None], skin, np.array([50.0, 55.0, 60.0]))
        frame = np.clip(np.round(frame + rng.normal(0, 2, frame.shape)), 0, 255).astype(np.uint8)
        analyse = i % 6 == 0
        step: dict[str, Any] = {"at": t, "analyse": analyse, "frame": b64(frame), "mesh": None}
        if analyse and not gone:
            points = np.zeros((478, 3), np.float32)
            points[:, :2] = ring + rng.normal(0, 0.2, ring.shape) + [shift, 0]
            points[:, 2] = rng.normal(0, 3, 478)
            points[rppg.FOREHEAD, :2] = (48 + shift, 18)
            points[rppg.CHEEKS[0], :2] = (38 + shift, 42)
            points[rppg.CHEEKS[1], :2] = (58 + shift, 42)
            shapes = {name: float(rng.uniform(0, 0.4)) for name in BLENDSHAPES}
            shapes["mouthSmileLeft"] = shapes["mouthSmileRight"] = min(1.0, i / 200)
            transform = np.eye(4)
            transform[:3, :3] = rotation(*rng.uniform(-20, 20, 3)) * 1.1
            meshes.append(FaceMesh(points, shapes, transform))
            step["mesh"] = {
                "points": points.astype(np.float64).tolist(),
                "blendshapes": shapes,
                "transform": transform.tolist(),
            }
        elif analyse:
            meshes.append(None)
        steps.append(step)
    return steps, meshes


PARITY_JS = """async (inputs) => {
  const a = await import("/static/affect/appraisal.js");
  const { Baseline } = await import("/static/affect/baseline.js");
  const q = await import("/static/affect/quality.js");
  const r = await import("/static/affect/rppg.js");
  const { ViewerAnalysis } = await import("/static/affect/viewer.js");
  const rgba = ({ rgb, width, height }) => {
    const bytes = Uint8Array.from(atob(rgb), (c) => c.charCodeAt(0));
    const data = new Uint8ClampedArray(width * height * 4);
    for (let i = 0; i < width * height; i++) {
      data.set(bytes.subarray(3 * i, 3 * i + 3), 4 * i);
      data[4 * i + 3] = 255;
    }
    return { data, width, height };
  };
  const out = {};
  out.appraisals = inputs.faces.map((f) => a.appraise(f.blendshapes, f.transform));
  const baseline = new Baseline();
  out.baseline = inputs.readings.map(([v, ar, hr, t]) => baseline.observe(v, ar, hr, t));
  out.luma = inputs.frames.map((f) => q.meanLuma(rgba(f)));
  out.motion = q.landmarkMotion(inputs.motion[0], inputs.motion[1], inputs.motion[2]);
  out.flags = inputs.assess.map((args) => q.assess(args));
  out.patches = r.skinPatches(inputs.mesh, 240, 320);
  out.meanRgb = r.meanRgb(rgba(inputs.frames[0]), out.patches);
  out.pulse = inputs.traces.map(({ times, colours }) => {
    const tracker = new r.PulseTracker();
    const estimates = [];
    times.forEach((t, i) => {
      tracker.add(colours[i], t);
      if (i % 30 === 29) estimates.push(tracker.estimate());
    });
    return estimates;
  });
  const viewer = new ViewerAnalysis();
  out.viewer = inputs.steps.map((step) => {
    const frame = rgba(step.frame);
    if (!step.analyse) return viewer.sampleSkin(frame, step.at) ?? null;
    return viewer.analyse(frame, step.mesh, step.at);
  }).filter((x) => x !== null);
  return out;
}"""


async def test_the_browser_computes_the_numbers_the_python_cores_do(
    server: LiveServer, pages: Pages
) -> None:
    rng = np.random.default_rng(2024)
    faces = []
    for k in range(40):
        shapes = {n: float(rng.uniform(-0.2, 1.2)) for n in BLENDSHAPES if rng.random() < 0.9}
        transform = np.eye(4)
        transform[:3, :3] = rotation(*rng.uniform([-70, -60, -40], [70, 60, 40])) * rng.uniform(
            0.5, 3
        )
        transform[:3, 3] = rng.normal(0, 30, 3)
        faces.append((shapes, transform if k % 7 else None))
    readings = []
    t = 0.0
    for k in range(300):
        t += float(rng.uniform(0.1, 0.4))
        hr = float(rng.uniform(55, 95)) if k % 3 else None
        readings.append((float(rng.normal(0.2, 0.3)), float(rng.normal(-0.1, 0.2)), hr, t))
    frames = [rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)] + [
        rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in ((23, 37), (5, 4), (61, 97))
    ]
    mesh = np.column_stack([rng.uniform(90, 230, 478), rng.uniform(40, 200, 478)])
    moved = mesh + rng.normal(0, 2, mesh.shape)
    assess_cases = [
        {"faceFound": False, "luma": 90.0},
        {"faceFound": False, "luma": 12.0},
        {"faceFound": True, "luma": 39.9, "motion": 0.6, "facePx": 30.0, "confidence": 1.0},
        {"faceFound": True, "luma": 120.0, "motion": None, "facePx": 80.0, "confidence": 1.0},
        {"faceFound": True, "luma": 120.0, "motion": 0.5, "facePx": 40.0, "confidence": 0.3},
    ]
    traces = []
    for bpm in (72.0, None):
        times = np.cumsum(rng.uniform(0.025, 0.042, 420))
        phase = 2 * np.pi * (bpm or 0) / 60 * times
        pulse = (np.sin(phase) + 0.3 * np.sin(2 * phase))[:, None] * 0.004 * SIGNATURE
        drift = 1 + 0.02 * np.sin(2 * np.pi * 0.13 * times)[:, None]
        colours = np.array([180.0, 130.0, 110.0]) * (1 + pulse) * drift
        colours = colours + rng.normal(0, 0.1, colours.shape)
        traces.append((times, colours))
    steps, meshes = scripted_faces(rng)

    page = await pages.open(f"{server.url}/phone", name="parity")
    inputs = {
        "faces": [
            {"blendshapes": s, "transform": None if m is None else m.tolist()} for s, m in faces
        ],
        "readings": readings,
        "frames": [b64(f) for f in frames],
        "motion": [mesh.tolist(), moved.tolist(), 0.25],
        "assess": assess_cases,
        "mesh": mesh.tolist(),
        "traces": [{"times": t.tolist(), "colours": c.tolist()} for t, c in traces],
        "steps": steps,
    }
    started = time.perf_counter()
    js = await page.evaluate(PARITY_JS, inputs)
    print(f"parity inputs computed in the browser in {time.perf_counter() - started:.2f} s")

    for (shapes, transform), got in zip(faces, js["appraisals"], strict=True):
        face = appraisal.appraise(None, shapes, transform)
        assert got["valence"] == pytest.approx(face.valence, abs=1e-12)
        assert got["arousal"] == pytest.approx(face.arousal, abs=1e-12)
        assert got["engagement"] == pytest.approx(face.engagement, abs=1e-9)
        if face.pose is None:
            assert got["pose"] is None
        else:
            pose = (face.pose.yaw, face.pose.pitch, face.pose.roll)
            assert [got["pose"][k] for k in ("yaw", "pitch", "roll")] == pytest.approx(pose)

    baseline = Baseline()
    for (v, a, hr, t), got in zip(readings, js["baseline"], strict=True):
        norm = baseline.observe(v, a, hr, t)
        assert got["valence"] == pytest.approx(norm.valence, abs=1e-12)
        assert got["arousal"] == pytest.approx(norm.arousal, abs=1e-12)
        assert got["valenceZ"] == pytest.approx(norm.valence_z, rel=1e-9, abs=1e-9)
        assert got["arousalZ"] == pytest.approx(norm.arousal_z, rel=1e-9, abs=1e-9)
        assert got["calibrated"] is norm.calibrated
        if norm.heart_rate_delta_bpm is None:
            assert got["heartRateDeltaBpm"] is None
        else:
            assert got["heartRateDeltaBpm"] == pytest.approx(norm.heart_rate_delta_bpm, abs=1e-9)
    assert js["baseline"][-1]["calibrated"] and not js["baseline"][0]["calibrated"]

    assert js["luma"] == pytest.approx([quality.mean_luma(f) for f in frames], abs=1e-9)
    assert js["motion"] == pytest.approx(quality.landmark_motion(mesh, moved, 0.25), rel=1e-12)
    for case, got in zip(assess_cases, js["flags"], strict=True):
        want = quality.assess(
            face_found=case["faceFound"],
            luma=case["luma"],
            motion=case.get("motion"),
            face_px=case.get("facePx", math.inf),
            confidence=case.get("confidence", 1.0),
        )
        assert tuple(got) == want
    boxes = rppg.skin_patches(mesh, (240, 320, 3))
    assert [(b["x0"], b["y0"], b["x1"], b["y1"]) for b in js["patches"]] == [
        (b.x0, b.y0, b.x1, b.y1) for b in boxes
    ]
    want_rgb = rppg.mean_rgb(frames[0], boxes)
    assert want_rgb is not None and js["meanRgb"] == pytest.approx(want_rgb.tolist(), abs=1e-9)

    for (times, colours), got in zip(traces, js["pulse"], strict=True):
        tracker = rppg.PulseTracker()
        want_estimates = []
        for i, (t, c) in enumerate(zip(times, colours, strict=True)):
            tracker.add(c, float(t))
            if i % 30 == 29:
                want_estimates.append(tracker.estimate())
        assert len(got) == len(want_estimates)
        for g, w in zip(got, want_estimates, strict=True):
            if w is None:
                assert g is None
                continue
            assert g["bpm"] == pytest.approx(w.bpm, abs=1e-6)
            assert g["snrDb"] == pytest.approx(w.snr_db, abs=1e-6)
            assert g["confidence"] == pytest.approx(w.confidence, abs=1e-6)
    pulsing, noise = js["pulse"][0][-1], js["pulse"][1][-1]
    assert pulsing["bpm"] == pytest.approx(72, abs=3) and pulsing["confidence"] > 0.8
    assert noise["confidence"] < 0.5

    # a fresh mesh every analysed frame, as in the browser (whose VIDEO mode tracks the
    # face itself): the server's reuse of a still face's landmarks is a cost it saves
    viewer = ViewerAnalysis(ScriptedLandmarker(meshes), reuse_landmarks_s=0.0)  # type: ignore[arg-type]
    want_readings = []
    for step in steps:
        frame = np.frombuffer(base64.b64decode(step["frame"]["rgb"]), np.uint8)
        frame = frame.reshape(step["frame"]["height"], step["frame"]["width"], 3)
        if step["analyse"]:
            want_readings.append(viewer.analyse(frame, step["at"]))
        else:
            viewer.sample_skin(frame, step["at"])
    assert len(js["viewer"]) == len(want_readings)
    for got, want in zip(js["viewer"], want_readings, strict=True):
        assert tuple(got["flags"]) == want.flags, want.at
        for mine, theirs in (
            ("valence", "valence"),
            ("arousal", "arousal"),
            ("engagement", "engagement"),
            ("rawValence", "raw_valence"),
            ("heartRateBpm", "heart_rate_bpm"),
            ("heartRateConfidence", "heart_rate_confidence"),
            ("luma", "luma"),
        ):
            value = getattr(want, theirs)
            assert (got[mine] is None) == (value is None), (want.at, mine)
            if value is not None:
                assert got[mine] == pytest.approx(value, rel=1e-6, abs=1e-6), (want.at, mine)
    flags = {f for r in want_readings for f in r.flags}
    assert {"moving", "no-face"} <= flags  # the script exercised both
    rates = [r.heart_rate_bpm for r in want_readings if r.heart_rate_bpm is not None]
    assert rates and rates[-1] == pytest.approx(66, abs=3)  # and the pulse


LANDMARKER_JS = """async ({ rgb, width, height }) => {
  const { createLandmarker, meshOf } = await import("/static/affect/landmarker.js");
  const { appraise } = await import("/static/affect/appraisal.js");
  const bytes = Uint8Array.from(atob(rgb), (c) => c.charCodeAt(0));
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    data.set(bytes.subarray(3 * i, 3 * i + 3), 4 * i);
    data[4 * i + 3] = 255;
  }
  const landmarker = await createLandmarker({ runningMode: "IMAGE" });
  try {
    const mesh = meshOf(landmarker.detect(new ImageData(data, width, height)), width, height);
    return { mesh, appraisal: appraise(mesh.blendshapes, mesh.transform) };
  } finally {
    landmarker.close();
  }
}"""


async def test_the_browser_landmarker_reads_the_astronaut_as_the_server_does(
    server: LiveServer, pages: Pages
) -> None:
    """The vendored runtime with the served model against mediapipe in Python."""
    astronaut = np.ascontiguousarray(data.astronaut())
    page = await pages.open(f"{server.url}/phone", name="landmarker")
    js = await page.evaluate(LANDMARKER_JS, b64(astronaut))
    with Landmarker() as landmarker:
        mesh = landmarker.detect(astronaut)
    assert mesh is not None and mesh.transform is not None
    assert np.abs(np.array(js["mesh"]["points"]) - mesh.points_px).max() < 0.5  # pixels
    for name, score in mesh.blendshapes.items():
        assert js["mesh"]["blendshapes"][name] == pytest.approx(score, abs=0.01), name
    assert np.abs(np.array(js["mesh"]["transform"]) - mesh.transform).max() < 0.01
    want = appraisal.appraise(None, mesh.blendshapes, mesh.transform)
    assert want.valence > 0.5
    assert js["appraisal"]["valence"] == pytest.approx(want.valence, abs=0.01)
    assert js["appraisal"]["engagement"] == pytest.approx(want.engagement, abs=0.01)


# -- the phone page, both paths -------------------------------------------------------
