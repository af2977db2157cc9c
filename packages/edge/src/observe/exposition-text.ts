/**
 * The Prometheus text exposition format (version 0.0.4), written straight from the numbers
 * the edge keeps. prom-client builds an object per sample and formats and escapes every
 * label of every line; at metrics.maxTunnelSeries that was ~150 ms of event-loop time per
 * scrape (docs/observability.md, "What metrics cost"). Here label text is escaped once, when
 * a series is made, and a line is a few string concatenations.
 */

import type { HistogramSeries } from './histogram-series.js';

export type MetricKind = 'counter' | 'gauge' | 'histogram';

const LABEL_ESCAPES = /[\\"\n]/g;

/** A label value as the format wants it: backslash, double quote and line feed escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(LABEL_ESCAPES, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** `name="value"`, the value escaped: make it once per series, not once per line. */
export function labelPair(name: string, value: string): string {
  return `${name}="${escapeLabelValue(value)}"`;
}

/** A sample value: as JavaScript prints a number, which the format reads; NaN and ±Inf as it spells them. */
export function formatValue(value: number): string {
  if (Number.isFinite(value)) return `${value}`;
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? '+Inf' : '-Inf';
}

/** The `# HELP` and `# TYPE` lines that open a family (in HELP text only `\` and line feeds are escaped). */
export function familyHeader(name: string, help: string, type: MetricKind): string {
  const text = help.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
  return `# HELP ${name} ${text}\n# TYPE ${name} ${type}\n`;
}

/** One sample line; `labels` is the already escaped text between the braces, '' for none. */
export function sampleLine(name: string, labels: string, value: number): string {
  return labels === '' ? `${name} ${formatValue(value)}\n` : `${name}{${labels}} ${formatValue(value)}\n`;
}

/**
 * The lines of a histogram family's series: cumulative `_bucket`s with `le` in ascending
 * order, `+Inf` equal to `_count`, then `_sum` and `_count`. The bucket-name and `le` text
 * of the family's bounds is made once; `bounds` must be the series' own (shared) bounds.
 */
export class HistogramText {
  private readonly bucketName: string;
  private readonly sumName: string;
  private readonly countName: string;
  /** `le="0.005"} ` per bound, then `le="+Inf"} `. */
  private readonly le: readonly string[];

  constructor(
    name: string,
    readonly bounds: readonly number[],
  ) {
    this.bucketName = `${name}_bucket`;
    this.sumName = `${name}_sum`;
    this.countName = `${name}_count`;
    this.le = [...bounds.map((bound) => `le="${formatValue(bound)}"} `), 'le="+Inf"} '];
  }

  /** Every line of one series; `labels` as for sampleLine. */
  lines(labels: string, series: HistogramSeries): string {
    const { counts } = series;
    const { le } = this;
    const open = labels === '' ? `${this.bucketName}{` : `${this.bucketName}{${labels},`;
    let text = '';
    let cumulative = 0;
    const n = le.length - 1;
    for (let i = 0; i < n; i++) {
      cumulative += counts[i]!;
      text += `${open}${le[i]!}${formatValue(cumulative)}\n`;
    }
    text += `${open}${le[n]!}${formatValue(series.count)}\n`;
    return (
      text + sampleLine(this.sumName, labels, series.sum) + sampleLine(this.countName, labels, series.count)
    );
  }
}
