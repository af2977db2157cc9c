/**
 * A metric whose values live elsewhere (plain counters and HistogramSeries the data path
 * updates) and are read only when Prometheus scrapes. prom-client's own Counter and
 * Histogram hash their label values on every `inc`/`observe` (about 1.5 us per request for
 * the edge's series, measured); these cost nothing until a scrape. The object has the shape
 * prom-client's Registry renders (`name`, `help`, `type`, `get()`), so one Registry exposes
 * them beside prom-client's own metrics and process metrics.
 */

import type { Metric, Registry } from 'prom-client';
import type { HistogramSeries } from './histogram-series.js';

export type LabelSet = Readonly<Record<string, string>>;

/** One exposed line: `metricName{labels} value` (metricName defaults to the metric's name). */
export interface Sample {
  labels: Readonly<Record<string, string | number>>;
  value: number;
  metricName?: string;
}

export type MetricKind = 'counter' | 'gauge' | 'histogram';

export class CollectedMetric {
  /** How prom-client's cluster aggregation would merge it; unused by a single process. */
  readonly aggregator = 'sum';

  /** `collect` appends this metric's samples at scrape time; it must not throw. */
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricKind,
    private readonly collect: (out: Sample[]) => void,
  ) {}

  get(): Promise<{ name: string; help: string; type: MetricKind; values: Sample[]; aggregator: string }> {
    const values: Sample[] = [];
    this.collect(values);
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    });
  }

  /** The values belong to their source; a registry reset leaves them alone. */
  reset(): void {}
}

/** Adds a CollectedMetric to a prom-client Registry (whose typings know only its own classes). */
export function registerCollected(registry: Registry, metric: CollectedMetric): void {
  registry.registerMetric(metric as unknown as Metric);
}

/** Appends one histogram series as Prometheus wants it: cumulative `_bucket`s, `+Inf`, `_sum`, `_count`. */
export function histogramSamples(
  out: Sample[],
  name: string,
  series: HistogramSeries,
  labels: LabelSet,
): void {
  const bucket = `${name}_bucket`;
  let cumulative = 0;
  series.bounds.forEach((bound, i) => {
    cumulative += series.counts[i]!;
    out.push({ metricName: bucket, labels: { ...labels, le: bound }, value: cumulative });
  });
  out.push({ metricName: bucket, labels: { ...labels, le: '+Inf' }, value: series.count });
  out.push({ metricName: `${name}_sum`, labels, value: series.sum });
  out.push({ metricName: `${name}_count`, labels, value: series.count });
}
