// Room-clock sync by ping/pong, NTP-style: the page's port of mobile_bridge/clock.py.
//
//   offset = ((t1 - t0) + (t2 - t3)) / 2      room time = page time + offset
//   rtt    = (t3 - t0) - (t2 - t1)
//
// Of the last 16 samples the one with the smallest round trip wins (it met the fewest
// queues); its error is at most rtt / 2. Page time is performance.now(), monotonic.

const KEEP = 16;

export function pageNow() {
  return performance.now() / 1000;
}

export class ClockSync {
  constructor() {
    this.samples = [];
    this.best = null;
  }

  /** A first, coarse sample from `welcome.now`, received at page time `t3`. */
  coarse(roomNow, t3 = pageNow()) {
    if (this.best === null) this.best = { offset: roomNow - t3, rtt: Infinity, at: t3 };
  }

  /** Feed a pong; returns the sample. */
  pong({ t0, t1, t2 }, t3 = pageNow()) {
    const sample = { offset: (t1 - t0 + (t2 - t3)) / 2, rtt: Math.max(0, t3 - t0 - (t2 - t1)), at: t3 };
    this.samples.push(sample);
    if (this.samples.length > KEEP) this.samples.shift();
    this.best = this.samples.reduce((a, b) => (b.rtt <= a.rtt ? b : a));
    return sample;
  }

  get synced() {
    return this.samples.length > 0;
  }

  /** The error bound of the current offset, in seconds. */
  get error() {
    return this.best ? this.best.rtt / 2 : Infinity;
  }

  roomNow(t = pageNow()) {
    return this.best ? t + this.best.offset : null;
  }
}
