// Heart rate from the camera by the POS method: the browser's port of affect/rppg.py
// (its docstring has the method and the references). The same arithmetic on the same
// trace gives the same rate and confidence (tests/web/test_affect_phone.py compares).
//
// numpy's FFTs are replaced by direct sums over only the bins that matter (the pulse
// band): a 10 s trace at 30 Hz is 300 samples, so that is ~0.1–0.2 M multiply-adds,
// about a millisecond, once a second.
//
// Pure: no DOM, no clock. Traces are arrays of [r, g, b]; frames are RGBA ImageData-like
// objects {data, width, height}.

export const BAND_HZ = [0.7, 4.0];
export const POS_WINDOW_S = 1.6;
export const WINDOW_S = 10;
export const MIN_TRACE_S = 6;
export const MIN_RATE_HZ = 8;
export const RESAMPLE_HZ = 30;
export const FOREHEAD = 151;
export const CHEEKS = [50, 280];
const FOREHEAD_SIZE = [0.28, 0.1];
const CHEEK_SIZE = [0.14, 0.12];

export class TraceError extends Error {}

/** Python's round(): halves go to the even neighbour. */
function roundHalfEven(x) {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Forehead and cheek boxes {x0, y0, x1, y1} from a 478-point mesh in pixels. */
export function skinPatches(points, frameHeight, frameWidth) {
  if (points.length <= Math.max(FOREHEAD, ...CHEEKS)) throw new TraceError("not a face mesh");
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of points) {
    lo = Math.min(lo, p[0]);
    hi = Math.max(hi, p[0]);
  }
  const width = hi - lo;
  const clip = (v, top) => Math.min(top, Math.max(0, roundHalfEven(v)));
  return [
    [FOREHEAD, FOREHEAD_SIZE],
    ...CHEEKS.map((c) => [c, CHEEK_SIZE]),
  ].map(([index, [fw, fh]]) => {
    const [cx, cy] = points[index];
    const halfW = (fw * width) / 2;
    const halfH = (fh * width) / 2;
    return {
      x0: clip(cx - halfW, frameWidth),
      y0: clip(cy - halfH, frameHeight),
      x1: clip(cx + halfW, frameWidth),
      y1: clip(cy + halfH, frameHeight),
    };
  });
}

/** The pixel rectangle covering every box (what to read off a canvas), or null. */
export function patchBounds(boxes) {
  const used = boxes.filter((b) => b.x1 > b.x0 && b.y1 > b.y0);
  if (!used.length) return null;
  return {
    x0: Math.min(...used.map((b) => b.x0)),
    y0: Math.min(...used.map((b) => b.y0)),
    x1: Math.max(...used.map((b) => b.x1)),
    y1: Math.max(...used.map((b) => b.y1)),
  };
}

/**
 * Mean [r, g, b] over the pixels of all boxes (area-weighted), null if they are empty.
 * `frame` may be a crop of the whole frame starting at (originX, originY).
 */
export function meanRgb(frame, boxes, originX = 0, originY = 0) {
  const { data, width } = frame;
  let r = 0;
  let g = 0;
  let b = 0;
  let pixels = 0;
  for (const box of boxes) {
    if (box.x1 <= box.x0 || box.y1 <= box.y0) continue;
    for (let y = box.y0; y < box.y1; y++) {
      let i = ((y - originY) * width + (box.x0 - originX)) * 4;
      for (let x = box.x0; x < box.x1; x++, i += 4) {
        r += data[i];
        g += data[i + 1];
        b += data[i + 2];
      }
    }
    pixels += (box.x1 - box.x0) * (box.y1 - box.y0);
  }
  return pixels ? [r / pixels, g / pixels, b / pixels] : null;
}

/** The POS pulse signal of a uniformly sampled RGB trace (array of [r, g, b]). */
export function pos(trace, fps) {
  const n = trace.length;
  const window = Math.ceil(POS_WINDOW_S * fps);
  if (n < window || window < 2 || !trace.every((c) => c.length === 3)) {
    throw new TraceError(`a trace of ${n} samples at ${fps} fps is shorter than a window`);
  }
  const totals = [0, 1, 2].map((k) => trace.reduce((sum, c) => sum + c[k], 0) / n);
  if (!trace.every((c) => c.every(Number.isFinite)) || totals.some((m) => m <= 0)) {
    throw new TraceError("trace has non-finite or non-positive colour");
  }
  const h = new Float64Array(n);
  const s1 = new Float64Array(window);
  const s2 = new Float64Array(window);
  for (let m = 0; m + window <= n; m++) {
    const mean = [0, 0, 0];
    for (let j = 0; j < window; j++) for (let k = 0; k < 3; k++) mean[k] += trace[m + j][k];
    for (let k = 0; k < 3; k++) mean[k] /= window;
    const usable = mean.every((v) => v > 0); // a black stretch has nothing to normalise
    for (let j = 0; j < window; j++) {
      const [r, g, b] = [0, 1, 2].map((k) => (mean[k] > 0 ? trace[m + j][k] / mean[k] : 1));
      s1[j] = g - b;
      s2[j] = g + b - 2 * r;
    }
    const sd1 = std(s1);
    const sd2 = std(s2);
    const alpha = sd2 > 0 ? sd1 / sd2 : 0;
    if (!usable) continue;
    let pMean = 0;
    for (let j = 0; j < window; j++) pMean += s1[j] + alpha * s2[j];
    pMean /= window;
    for (let j = 0; j < window; j++) h[m + j] += s1[j] + alpha * s2[j] - pMean;
  }
  return h;
}

function std(values) {
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length;
  let sum = 0;
  for (const v of values) sum += (v - mean) * (v - mean);
  return Math.sqrt(sum / values.length);
}

/** Cosine and sine of 2π·i/size for i in [0, size): exact twiddles for the direct sums. */
function twiddles(size) {
  const cos = new Float64Array(size);
  const sin = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    cos[i] = Math.cos((2 * Math.PI * i) / size);
    sin[i] = Math.sin((2 * Math.PI * i) / size);
  }
  return { cos, sin };
}

/** Zero the spectrum outside `band` (Hz): numpy's rfft → mask → irfft, as direct sums. */
export function bandPass(signal, fps, band = BAND_HZ) {
  const n = signal.length;
  let mean = 0;
  for (const v of signal) mean += v;
  mean /= n;
  const x = Float64Array.from(signal, (v) => v - mean);
  const { cos, sin } = twiddles(n);
  const out = new Float64Array(n);
  const step = 1 / (n * (1 / fps)); // numpy.fft.rfftfreq's own arithmetic: same bins at the edges
  for (let k = 1; k <= n >> 1; k++) {
    const freq = k * step;
    if (freq < band[0] || freq > band[1]) continue;
    let re = 0;
    let im = 0;
    for (let j = 0; j < n; j++) {
      const t = (j * k) % n;
      re += x[j] * cos[t];
      im -= x[j] * sin[t];
    }
    const nyquist = 2 * k === n; // its imaginary part is dropped, as irfft does
    const weight = nyquist ? 1 / n : 2 / n;
    for (let j = 0; j < n; j++) {
      const t = (j * k) % n;
      out[j] += weight * (re * cos[t] - (nyquist ? 0 : im * sin[t]));
    }
  }
  return out;
}

/** 0–1 from the SNR in dB: about 0.1 for noise alone, 0.5 at 0 dB, 0.9 at +4 dB. */
export function confidence(snrDb) {
  if (Number.isNaN(snrDb)) return 0;
  return Number.isFinite(snrDb) ? 1 / (1 + Math.exp(-snrDb / 1.8)) : Number(snrDb > 0);
}

/** Heart rate {bpm, snrDb, confidence} of a uniformly sampled RGB trace. */
export function estimate(trace, fps, band = BAND_HZ) {
  if (!(fps >= 2 * band[1])) throw new TraceError(`${fps} fps cannot show pulses up to ${band[1]} Hz`);
  const pulse = bandPass(pos(trace, fps), fps, band);
  const n = pulse.length;
  const nFft = Math.max(4096, 2 ** Math.ceil(Math.log2(n)));
  const windowed = Float64Array.from(pulse, (v, i) => v * hanning(i, n));
  const { cos, sin } = twiddles(nFft);
  const bins = [];
  const step = 1 / (nFft * (1 / fps));
  for (let k = 0; k <= nFft >> 1; k++) {
    const freq = k * step;
    if (freq < band[0] || freq > band[1]) continue;
    let re = 0;
    let im = 0;
    for (let j = 0; j < n; j++) {
      const t = (j * k) % nFft;
      re += windowed[j] * cos[t];
      im -= windowed[j] * sin[t];
    }
    bins.push({ freq, power: re * re + im * im });
  }
  if (!bins.some((b) => b.power > 0)) return { bpm: 0, snrDb: -Infinity, confidence: 0 };
  let peak = bins[0];
  for (const b of bins) if (b.power > peak.power) peak = b;
  let signal = 0;
  let noise = 0;
  for (const b of bins) {
    const near = Math.abs(b.freq - peak.freq) <= 0.1 || Math.abs(b.freq - 2 * peak.freq) <= 0.2;
    if (near) signal += b.power;
    else noise += b.power;
  }
  const snrDb = noise > 0 ? 10 * Math.log10(signal / noise) : Infinity;
  return { bpm: 60 * peak.freq, snrDb, confidence: confidence(snrDb) };
}

function hanning(i, n) {
  return n === 1 ? 1 : 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
}

/** numpy.interp over increasing `xs`. */
function interp(x, xs, ys) {
  if (x <= xs[0]) return ys[0];
  if (x >= xs[xs.length - 1]) return ys[ys.length - 1];
  let lo = 0;
  let hi = xs.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= x) lo = mid;
    else hi = mid;
  }
  const span = xs[hi] - xs[lo];
  return span > 0 ? ys[lo] + ((x - xs[lo]) * (ys[hi] - ys[lo])) / span : ys[lo];
}

/** A sliding window of one viewer's skin colour, and the heart rate in it. */
export class PulseTracker {
  constructor(windowS = WINDOW_S, maxSamples = 1200) {
    this.windowS = windowS;
    this.maxSamples = maxSamples;
    this.samples = []; // [at, [r, g, b]]
  }

  /** One mean skin colour at time `at` (seconds; later than the previous). */
  add(rgb, at) {
    const last = this.samples[this.samples.length - 1];
    if (last && at <= last[0]) return;
    this.samples.push([at, rgb]);
    if (this.samples.length > this.maxSamples) this.samples.shift();
    while (this.samples.length && this.samples[0][0] < at - this.windowS) this.samples.shift();
  }

  clear() {
    this.samples = [];
  }

  get spanS() {
    const s = this.samples;
    return s.length > 1 ? s[s.length - 1][0] - s[0][0] : 0;
  }

  /** The heart rate over the window, or null while the trace is too short or sparse. */
  estimate(resampleHz = RESAMPLE_HZ) {
    const span = this.spanS;
    if (span < MIN_TRACE_S || (this.samples.length - 1) / span < MIN_RATE_HZ) return null;
    const times = this.samples.map(([t]) => t);
    const start = times[0];
    const count = Math.ceil((times[times.length - 1] - start) / (1 / resampleHz));
    const channels = [0, 1, 2].map((k) => this.samples.map(([, c]) => c[k]));
    const uniform = [];
    for (let i = 0; i < count; i++) {
      const t = start + i * (1 / resampleHz);
      uniform.push(channels.map((ys) => interp(t, times, ys)));
    }
    try {
      return estimate(uniform, resampleHz);
    } catch (error) {
      if (error instanceof TraceError) return null;
      throw error;
    }
  }
}
