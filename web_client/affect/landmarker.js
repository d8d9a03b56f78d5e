// MediaPipe Tasks for Web's FaceLandmarker, loaded from the vendored library
// (web_client/vendor/mediapipe-tasks-vision, fetched by `make vendor`) with the model
// file the server itself uses (GET /models/face_landmarker.task). Results come back
// in the shape affect/viewer.js reads: {points: [[x, y, z] px], blendshapes, transform}.

import { matrixRows } from "./appraisal.js";

export const VENDOR = "/static/vendor/mediapipe-tasks-vision";
export const MODEL_URL = "/models/face_landmarker.task";

/** Whether this browser could run the landmarker at all (it may still fail to load). */
export function supported() {
  return (
    typeof WebAssembly === "object" &&
    typeof WebAssembly.instantiate === "function" &&
    typeof document.createElement("canvas").getContext === "function"
  );
}

/**
 * A FaceLandmarker for one face, in VIDEO mode (it tracks the face between frames) or
 * IMAGE mode (each frame alone, as the server runs it). Rejects when the library or the
 * model cannot be loaded.
 */
export async function createLandmarker({ runningMode = "VIDEO" } = {}) {
  const vision = await import(`${VENDOR}/vision_bundle.mjs`);
  const fileset = await vision.FilesetResolver.forVisionTasks(`${VENDOR}/wasm`);
  // The runtime's stderr goes to console.error, its TensorFlow Lite info lines included
  // ("INFO: Created TensorFlow Lite XNNPACK delegate for CPU."): the library reads a
  // global `Module` (Emscripten's options) while it starts, so route those to info.
  self.Module = { printErr: (line) => (/^(INFO|WARNING): /.test(line) ? console.info : console.error)(line) };
  return vision.FaceLandmarker.createFromOptions(fileset, {
    baseOptions: { modelAssetPath: MODEL_URL, delegate: "CPU" },
    runningMode,
    numFaces: 1,
    minFaceDetectionConfidence: 0.5,
    minFacePresenceConfidence: 0.5,
    outputFaceBlendshapes: true,
    outputFacialTransformationMatrixes: true,
  });
}

/** The first face of a FaceLandmarkerResult in pixels of a width × height frame, or null. */
export function meshOf(result, width, height) {
  if (!result || !result.faceLandmarks || !result.faceLandmarks.length) return null;
  const points = result.faceLandmarks[0].map((p) => [p.x * width, p.y * height, p.z * width]);
  const blendshapes = {};
  const shapes = result.faceBlendshapes && result.faceBlendshapes[0];
  if (shapes) for (const c of shapes.categories) blendshapes[c.categoryName] = c.score;
  const matrices = result.facialTransformationMatrixes;
  const transform = matrices && matrices.length ? matrixRows(matrices[0]) : null;
  return { points, blendshapes, transform };
}
