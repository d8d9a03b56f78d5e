// Quality flags: which readings are too poor to count (excluded, never averaged in).
// The browser's port of affect/quality.py. Frames are RGBA ImageData-like objects
// {data, width, height}; landmarks are arrays of [x, y, z] in pixels.
//
// Pure: no DOM, no clock (the interval between frames is passed in).

export const FLAGS = ["no-face", "too-dark", "moving", "low-confidence"];
export const LIMITS = Object.freeze({ minLuma: 40, maxMotion: 0.5, minFacePx: 40, minConfidence: 0.3 });

/** Mean Rec. 601 luma (0–255) over every `step`-th pixel of every `step`-th row. */
export function meanLuma(frame, step = 4) {
  const { data, width, height } = frame;
  let r = 0;
  let g = 0;
  let b = 0;
  let n = 0;
  for (let y = 0; y < height; y += step) {
    for (let x = 0; x < width; x += step) {
      const i = (y * width + x) * 4;
      r += data[i];
      g += data[i + 1];
      b += data[i + 2];
      n += 1;
    }
  }
  if (!n) throw new RangeError("empty frame");
  return 0.299 * (r / n) + 0.587 * (g / n) + 0.114 * (b / n);
}

/** Width in pixels of the landmarks' bounding box. */
export function faceWidth(points) {
  if (!points.length) return 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of points) {
    lo = Math.min(lo, p[0]);
    hi = Math.max(hi, p[0]);
  }
  return hi - lo;
}

/** Mean landmark displacement between two frames, in face widths per second. */
export function landmarkMotion(previous, current, dtS) {
  if (previous.length !== current.length) throw new RangeError("landmark counts differ");
  if (!(dtS > 0)) throw new RangeError(`dtS=${dtS} must be positive`);
  const width = faceWidth(current);
  if (width <= 0) return Infinity;
  let sum = 0;
  for (let i = 0; i < current.length; i++) {
    sum += Math.hypot(current[i][0] - previous[i][0], current[i][1] - previous[i][1]);
  }
  return sum / current.length / width / dtS;
}

/** The flags one reading earns, in FLAGS order; empty means usable. */
export function assess({ faceFound, luma, motion = null, facePx = Infinity, confidence = 1, limits = LIMITS }) {
  const flags = [];
  if (!faceFound) flags.push("no-face");
  if (!(luma >= limits.minLuma)) flags.push("too-dark");
  if (faceFound) {
    if (motion !== null && !(motion <= limits.maxMotion)) flags.push("moving");
    if (!(facePx >= limits.minFacePx && confidence >= limits.minConfidence)) flags.push("low-confidence");
  }
  return flags;
}
