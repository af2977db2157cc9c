/**
 * Latency counts over a sliding window, kept as a ring of time buckets (e.g. six of 10 s for
 * the last minute) each holding counts per latency bin. Adding is O(1); reading merges the
 * buckets still inside the window. A bucket's counts are allocated when it first gets a value
 * and reused when its slot comes round again, so an idle tunnel costs no arrays.
 */

import { LATENCY_BIN_COUNT } from './latency-bins.js';

export class LatencyWindow {
  private readonly slots: (Uint32Array | null)[];
  /** The period (time / bucketMs) each slot counts, or -1 before its first value. */
  private readonly periods: Float64Array;

  /** `buckets` slots of `bucketMs` each: the window covers the current bucket and buckets − 1 before it. */
  constructor(
    readonly buckets: number,
    readonly bucketMs: number,
  ) {
    this.slots = new Array<Uint32Array | null>(buckets).fill(null);
    this.periods = new Float64Array(buckets).fill(-1);
  }

  /** Counts one value in `bin` at epoch ms `now`. */
  add(now: number, bin: number): void {
    const period = Math.floor(now / this.bucketMs);
    const slot = period % this.buckets;
    let counts = this.slots[slot]!;
    if (this.periods[slot] !== period) {
      if (counts === null) {
        counts = new Uint32Array(LATENCY_BIN_COUNT);
        this.slots[slot] = counts;
      } else counts.fill(0);
      this.periods[slot] = period;
    }
    counts[bin] = counts[bin]! + 1;
  }

  /** Adds the counts inside the window ending at `now` into `into`; answers how many values that was. */
  mergeInto(now: number, into: Uint32Array): number {
    const current = Math.floor(now / this.bucketMs);
    let total = 0;
    for (let slot = 0; slot < this.buckets; slot++) {
      const period = this.periods[slot]!;
      const counts = this.slots[slot];
      if (counts === null || counts === undefined) continue;
      if (period > current || period <= current - this.buckets) continue;
      for (let bin = 0; bin < counts.length; bin++) {
        const n = counts[bin]!;
        into[bin] = into[bin]! + n;
        total += n;
      }
    }
    return total;
  }
}
