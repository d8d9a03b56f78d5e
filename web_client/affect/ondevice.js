// The on-device path: the phone analyses its own camera and sends only numbers.
//
// Every camera frame the preview <video> presents is drawn into a small canvas (at most
// 320×240, the size the server analyses). ANALYSIS_HZ times a second the whole frame
// goes through the FaceLandmarker (VIDEO mode) and viewer.js (quality flags,
// appraisal, baseline, pulse); on the frames between, only the skin patches are read
// (a few hundred pixels) for the camera heart rate, which needs ≥ 8 colour samples a
// second. Every SEND_EVERY_MS the mean of the usable readings since the last message
// goes to the server as `affect` (docs/protocol.md); flagged readings are excluded,
// so a phone with no face in view sends nothing.
//
// Privacy: pixels live in the canvas and in the ImageData of the frame being analysed,
// both overwritten by the next frame; readings are numbers. Nothing is stored or sent
// but the `affect` message.
//
// Events: "reading" (detail: a viewer.js reading, numbers only), "failed" (detail:
// {error}) when the landmarker throws (the session then falls back to the server path).

import { meshOf } from "./landmarker.js";
import { patchBounds } from "./rppg.js";
import { ViewerAnalysis } from "./viewer.js";

export const ANALYSIS_HZ = 5;
export const SEND_EVERY_MS = 500;
const MAX_WIDTH = 320;
const MAX_HEIGHT = 240;
const FALLBACK_FRAME_MS = 1000 / 15; // without requestVideoFrameCallback

export class OnDeviceAnalysis extends EventTarget {
  /**
   * @param {object} options
   * @param {HTMLVideoElement} options.video playing the camera stream
   * @param {object} options.landmarker a FaceLandmarker in VIDEO mode (landmarker.js)
   * @param {(message: object) => void} options.send sends one `affect` message
   */
  constructor({ video, landmarker, send }) {
    super();
    this.video = video;
    this.landmarker = landmarker;
    this.send = send;
    this.viewer = new ViewerAnalysis();
    this.canvas = document.createElement("canvas");
    this.context = this.canvas.getContext("2d", { willReadFrequently: true });
    this.running = false;
    this.analysed = 0; // frames through the landmarker (the page's status shows the rate)
    this.sent = 0;
    this._usable = [];
    this._lastAnalysisAt = -Infinity;
    this._lastTimestampMs = 0;
    this._lastAt = -Infinity;
    this._sendTimer = null;
    this._frameTimer = null;
    this._frameHandle = null;
  }

  start() {
    this.running = true;
    this._next();
    this._sendTimer = setInterval(() => this._flush(), SEND_EVERY_MS);
    return this;
  }

  stop() {
    this.running = false;
    clearInterval(this._sendTimer);
    clearTimeout(this._frameTimer);
    if (this._frameHandle !== null && this.video.cancelVideoFrameCallback) {
      this.video.cancelVideoFrameCallback(this._frameHandle);
    }
    this._frameHandle = null;
    this._usable = [];
    this.canvas.width = this.canvas.height = 0; // drop the last frame's pixels
  }

  _next() {
    if (!this.running) return;
    if ("requestVideoFrameCallback" in HTMLVideoElement.prototype) {
      this._frameHandle = this.video.requestVideoFrameCallback((now, meta) => this._frame(meta.captureTime ?? now));
    } else {
      this._frameTimer = setTimeout(() => this._frame(performance.now()), FALLBACK_FRAME_MS);
    }
  }

  _frame(whenMs) {
    if (!this.running) return;
    try {
      this._process(whenMs / 1000);
    } catch (error) {
      this.stop();
      this.dispatchEvent(new CustomEvent("failed", { detail: { error } }));
      return;
    }
    this._next();
  }

  _process(at) {
    const video = this.video;
    if (!video.videoWidth || !video.videoHeight || !(at > this._lastAt)) return;
    this._lastAt = at;
    const scale = Math.min(1, MAX_WIDTH / video.videoWidth, MAX_HEIGHT / video.videoHeight);
    const width = Math.round(video.videoWidth * scale);
    const height = Math.round(video.videoHeight * scale);
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    this.context.drawImage(video, 0, 0, width, height);
    if (at - this._lastAnalysisAt >= 1 / ANALYSIS_HZ - 0.005) {
      this._lastAnalysisAt = at;
      const frame = this.context.getImageData(0, 0, width, height);
      // VIDEO mode wants strictly increasing timestamps in milliseconds
      this._lastTimestampMs = Math.max(this._lastTimestampMs + 1, Math.round(at * 1000));
      const result = this.landmarker.detectForVideo(frame, this._lastTimestampMs);
      const reading = this.viewer.analyse(frame, meshOf(result, width, height), at);
      this.analysed += 1;
      if (!reading.flags.length) this._usable.push(reading);
      this.dispatchEvent(new CustomEvent("reading", { detail: reading }));
    } else {
      const bounds = patchBounds(this.viewer.patches);
      if (!bounds) return;
      const crop = this.context.getImageData(bounds.x0, bounds.y0, bounds.x1 - bounds.x0, bounds.y1 - bounds.y0);
      this.viewer.sampleSkin(crop, at, bounds.x0, bounds.y0);
    }
  }

  /** The mean of the usable readings since the last message, as one `affect` message. */
  _flush() {
    const readings = this._usable;
    this._usable = [];
    if (!readings.length) return;
    const mean = (key) => readings.reduce((sum, r) => sum + r[key], 0) / readings.length;
    const round = (x) => Math.round(x * 10000) / 10000;
    const message = {
      type: "affect",
      valence: round(Math.min(1, Math.max(-1, mean("valence")))),
      arousal: round(Math.min(1, Math.max(-1, mean("arousal")))),
      engagement: round(Math.min(1, Math.max(0, mean("engagement")))),
    };
    const pulse = readings[readings.length - 1].heartRateBpm;
    if (pulse !== null) message.heart_rate_bpm = round(pulse);
    this.sent += 1;
    this.send(message);
  }
}
