// Valence, arousal and engagement from one analysed face: the browser's port of
// affect/appraisal.py (read its docstring for the why). The phone runs no expression
// classifier, so valence and arousal come from the blendshapes alone, exactly as the
// server computes them without one. tests/web/test_affect_phone.py checks that both give
// the same numbers for the same inputs.
//
// Pure arithmetic over numbers: no DOM, no model.

/** Valence and arousal ([-1, 1]) from MediaPipe's blendshape scores (missing ones read 0). */
export function fromBlendshapes(blendshapes) {
  const both = (name) => (score(blendshapes, `${name}Left`) + score(blendshapes, `${name}Right`)) / 2;
  const smile = both("mouthSmile");
  const frown = both("mouthFrown");
  const valence = smile - 0.6 * frown - 0.4 * both("browDown") - 0.4 * both("noseSneer");
  const arousal =
    -0.3 +
    0.8 * score(blendshapes, "jawOpen") +
    0.8 * both("eyeWide") +
    0.4 * score(blendshapes, "browInnerUp") +
    0.3 * smile;
  return [clamp(valence), clamp(arousal)];
}

/**
 * Yaw, pitch and roll in degrees of a 4×4 facial transformation matrix (an array of 4
 * rows), decomposed as Rz(roll)·Ry(yaw)·Rx(pitch) after removing scale; null when it is
 * not a 4×4 matrix with a non-degenerate rotation (the Python raises there).
 */
export function headPose(m) {
  if (!Array.isArray(m) || m.length !== 4 || !m.every((row) => row.length === 4 && row.every(Number.isFinite))) {
    return null;
  }
  const scale = [0, 1, 2].map((c) => Math.hypot(m[0][c], m[1][c], m[2][c]));
  if (scale.some((s) => s <= 1e-9)) return null;
  const r = (i, j) => m[i][j] / scale[j];
  const degrees = (radians) => (radians * 180) / Math.PI;
  return {
    yaw: degrees(Math.asin(Math.max(-1, Math.min(1, -r(2, 0))))),
    pitch: degrees(Math.atan2(r(2, 1), r(2, 2))),
    roll: degrees(Math.atan2(r(1, 0), r(0, 0))),
  };
}

/** MediaPipe's flat column-major 4×4 matrix ({rows, columns, data}) as an array of rows. */
export function matrixRows(matrix) {
  if (!matrix || matrix.rows !== 4 || matrix.columns !== 4 || matrix.data.length !== 16) return null;
  return [0, 1, 2, 3].map((r) => [0, 1, 2, 3].map((c) => matrix.data[c * 4 + r]));
}

/** 0–1: facing the screen × eyes on it × eyes open. */
export function engagement(pose, blendshapes) {
  let facing = 1;
  if (pose) facing = falloff(Math.abs(pose.yaw), 15, 45) * falloff(Math.abs(pose.pitch), 15, 40);
  const both = (a, b) => (score(blendshapes, a) + score(blendshapes, b)) / 2;
  const away = Math.max(
    both("eyeLookOutLeft", "eyeLookInRight"),
    both("eyeLookInLeft", "eyeLookOutRight"),
    both("eyeLookUpLeft", "eyeLookUpRight"),
    both("eyeLookDownLeft", "eyeLookDownRight") - 0.3, // the phone sits below the camera
  );
  const gaze = falloff(away, 0.35, 0.75);
  const eyesOpen = falloff(both("eyeBlinkLeft", "eyeBlinkRight"), 0.55, 0.9);
  return facing * gaze * eyesOpen;
}

/** The reading of one face without a classifier: {valence, arousal, engagement, pose}. */
export function appraise(blendshapes, transform) {
  const [valence, arousal] = fromBlendshapes(blendshapes);
  const pose = transform ? headPose(transform) : null;
  return { valence, arousal, engagement: engagement(pose, blendshapes), pose };
}

function score(blendshapes, name) {
  const value = Number(blendshapes[name] ?? 0);
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}

/** 1 up to `fullUntil`, 0 from `noneFrom`, linear between. */
function falloff(x, fullUntil, noneFrom) {
  return Math.min(1, Math.max(0, (noneFrom - x) / (noneFrom - fullUntil)));
}

export function clamp(x) {
  return Math.min(1, Math.max(-1, x));
}
