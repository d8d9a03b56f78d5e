// Per-viewer baseline: each reading re-centred on the viewer's own running mean. The
// browser's port of affect/baseline.py (its docstring gives the why): Welford during
// the first CALIBRATION_S seconds, then an exponential moving average with time
// constant TAU_S. A reading is compared with the baseline before it joins it.
//
// Pure: time is an argument (seconds); quality-flagged readings must not be fed.

export const CALIBRATION_S = 20;
export const TAU_S = 300;
export const MIN_STD = 0.05;

class Channel {
  constructor() {
    this.startedAt = null;
    this.lastAt = 0;
    this.n = 0;
    this.mean = 0;
    this.variance = 0;
  }

  update(x, now, calibrationS, tauS) {
    if (this.startedAt === null) this.startedAt = now;
    if (now - this.startedAt < calibrationS || this.n === 0) {
      this.n += 1;
      const delta = x - this.mean;
      this.mean += delta / this.n;
      this.variance += (delta * (x - this.mean) - this.variance) / this.n;
    } else {
      this.n += 1;
      const alpha = 1 - Math.exp(-Math.max(0, now - this.lastAt) / tauS);
      const delta = x - this.mean;
      this.mean += alpha * delta;
      this.variance = (1 - alpha) * (this.variance + alpha * delta * delta);
    }
    this.lastAt = Math.max(this.lastAt, now);
  }

  calibrated(now, calibrationS) {
    return this.startedAt !== null && now - this.startedAt >= calibrationS;
  }

  deviation(x) {
    return Math.min(1, Math.max(-1, this.n ? x - this.mean : 0));
  }

  z(x) {
    if (!this.n) return 0;
    return (x - this.mean) / Math.max(Math.sqrt(Math.max(this.variance, 0)), MIN_STD);
  }
}

export class Baseline {
  constructor(calibrationS = CALIBRATION_S, tauS = TAU_S) {
    if (!(calibrationS >= 0 && tauS > 0)) throw new RangeError(`calibrationS=${calibrationS}, tauS=${tauS}`);
    this.calibrationS = calibrationS;
    this.tauS = tauS;
    this.valence = new Channel();
    this.arousal = new Channel();
    this.heartRate = new Channel();
  }

  /**
   * Normalise one reading against the baseline so far, then fold it in:
   * {valence, arousal, valenceZ, arousalZ, heartRateDeltaBpm, calibrated}.
   */
  observe(valence, arousal, heartRateBpm, now) {
    for (const value of [valence, arousal, now]) {
      if (!Number.isFinite(value)) throw new RangeError(`${value} is not finite`);
    }
    if (heartRateBpm !== null && !Number.isFinite(heartRateBpm)) heartRateBpm = null;
    const out = {
      valence: this.valence.deviation(valence),
      arousal: this.arousal.deviation(arousal),
      valenceZ: this.valence.z(valence),
      arousalZ: this.arousal.z(arousal),
      heartRateDeltaBpm: heartRateBpm === null ? null : this.heartRate.n ? heartRateBpm - this.heartRate.mean : 0,
      calibrated: this.valence.calibrated(now, this.calibrationS),
    };
    this.valence.update(valence, now, this.calibrationS, this.tauS);
    this.arousal.update(arousal, now, this.calibrationS, this.tauS);
    if (heartRateBpm !== null) this.heartRate.update(heartRateBpm, now, this.calibrationS, this.tauS);
    return out;
  }
}
