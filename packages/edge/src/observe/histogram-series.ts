/**
 * One histogram series kept as plain numbers: observing is a short scan of the bounds and
 * three additions, with no label hashing, no allocation and no string building, so it can
 * run for every request. Exported at scrape time (collected-metric.ts).
 */

/** Request durations, seconds: 1 ms to 1 min (a longer request lands in +Inf). */
export const REQUEST_SECONDS_BUCKETS: readonly number[] = Object.freeze([
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
]);

/**
 * One tunnel's request durations, seconds: fewer buckets than the edge-wide ones, because
 * these are multiplied by every labelled tunnel and status class (metrics.maxTunnelSeries
 * 1,000 x 6 classes); each bucket dropped is 6,000 lines fewer per scrape at the cap.
 */
export const TUNNEL_SECONDS_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 10,
]);

/** Store queries, seconds: 0.1 ms to 5 s. */
export const QUERY_SECONDS_BUCKETS: readonly number[] = Object.freeze([
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
]);

export class HistogramSeries {
  /** Per bucket, not cumulative; the last slot counts values above every bound (+Inf). */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  /** `bounds` ascending upper bounds (inclusive, as Prometheus `le`); shared, never copied. */
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const { bounds } = this;
    const n = bounds.length;
    let i = 0;
    while (i < n && value > bounds[i]!) i++;
    this.counts[i]! += 1;
    this.sum += value;
    this.count += 1;
  }
}
