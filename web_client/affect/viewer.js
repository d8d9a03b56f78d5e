// One viewer's camera, frame by frame, to numbers: the browser's port of
// affect/viewer.py's ViewerAnalysis (without the expression classifier, which the
// phone does not run). Two entry points, as there:
//
// - analyse(frame, mesh, at), 4–8 times a second: quality flags → appraisal →
//   baseline → pulse estimate → a reading;
// - sampleSkin(frame, at), on the camera frames between: the mean colour of the skin
//   patches the last analysed frame placed, into the pulse trace.
//
// A flagged reading carries no valence/arousal/engagement and is not fed to the
// baseline; when the face is lost the pulse trace is cleared. Not ported: the server's
// reuse of a still face's landmarks (a cost it saves per viewer); here the landmarker
// runs on every analysed frame, in VIDEO mode, which tracks the face between frames. A reading holds numbers
// only: the frame is never kept.
//
// Frames are RGBA {data, width, height} (or a crop of one, see sampleSkin); a mesh is
// {points: [[x, y, z] px] ×478, blendshapes: {name: score}, transform: 4×4 rows | null}.

import { appraise } from "./appraisal.js";
import { Baseline } from "./baseline.js";
import { LIMITS, assess, faceWidth, landmarkMotion, meanLuma } from "./quality.js";
import { PulseTracker, meanRgb, skinPatches } from "./rppg.js";

export const MIN_PULSE_CONFIDENCE = 0.5;
export const PULSE_EVERY_S = 1;
export const HEART_RATE_RANGE_BPM = [30, 220];

export class ViewerAnalysis {
  constructor({ limits = LIMITS, baseline = new Baseline(), pulse = new PulseTracker() } = {}) {
    this.limits = limits;
    this.baseline = baseline;
    this.pulse = pulse;
    this.patches = [];
    this.previous = null; // [at, points]
    this.lastPulse = null; // [at, estimate | null]
  }

  /** Add one frame's skin colour; `frame` may be a crop starting at (originX, originY). */
  sampleSkin(frame, at, originX = 0, originY = 0) {
    if (!this.patches.length) return;
    const rgb = meanRgb(frame, this.patches, originX, originY);
    if (rgb !== null) this.pulse.add(rgb, at);
  }

  /** Analyse one frame and the face found in it (null: none) at time `at` (seconds). */
  analyse(frame, mesh, at) {
    const luma = meanLuma(frame);
    if (!mesh) {
      this.patches = [];
      this.previous = null;
      this.pulse.clear();
      this.lastPulse = null;
      return reading(at, assess({ faceFound: false, luma }), luma);
    }
    const points = mesh.points;
    let motion = null;
    if (this.previous && at > this.previous[0]) {
      motion = landmarkMotion(this.previous[1], points, at - this.previous[0]);
    }
    this.previous = [at, points];
    const flags = assess({
      faceFound: true,
      luma,
      motion,
      facePx: faceWidth(points),
      confidence: 1,
      limits: this.limits,
    });

    this.patches = skinPatches(points, frame.height, frame.width);
    this.sampleSkin(frame, at);
    if (!this.lastPulse || !(at - this.lastPulse[0] >= 0 && at - this.lastPulse[0] < PULSE_EVERY_S)) {
      this.lastPulse = [at, this.pulse.estimate()];
    }
    const pulse = this.lastPulse[1];
    const [low, high] = HEART_RATE_RANGE_BPM;
    let heartRate = null;
    if (pulse && pulse.confidence >= MIN_PULSE_CONFIDENCE) heartRate = Math.min(high, Math.max(low, pulse.bpm));
    const pulseConfidence = pulse ? pulse.confidence : null;
    if (flags.length) return reading(at, flags, luma, { heartRateBpm: heartRate, heartRateConfidence: pulseConfidence });

    const appraisal = appraise(mesh.blendshapes, mesh.transform);
    const normalised = this.baseline.observe(appraisal.valence, appraisal.arousal, heartRate, at);
    return reading(at, [], luma, {
      valence: normalised.valence,
      arousal: normalised.arousal,
      engagement: appraisal.engagement,
      rawValence: appraisal.valence,
      rawArousal: appraisal.arousal,
      calibrated: normalised.calibrated,
      heartRateBpm: heartRate,
      heartRateConfidence: pulseConfidence,
    });
  }
}

function reading(at, flags, luma, values = {}) {
  return {
    at,
    flags,
    luma,
    valence: null,
    arousal: null,
    engagement: null,
    rawValence: null,
    rawArousal: null,
    calibrated: false,
    heartRateBpm: null,
    heartRateConfidence: null,
    ...values,
  };
}
