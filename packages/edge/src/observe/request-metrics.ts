/**
 * The per-request metrics: a RequestObserver that counts each finished request into plain
 * numbers (one map lookup for its tunnel's series, then array slots), and exports them as
 * Prometheus series at scrape time:
 *
 *   burrow_requests_total{status_class, error_code, tunnel}
 *   burrow_request_duration_seconds{status_class, tunnel}   (not upgrades: their time is the socket's life)
 *   burrow_request_phase_seconds{phase}                      (edge, tunnel, origin; edge-wide)
 *   burrow_request_bytes_total{direction}                    (in: from viewers, out: to viewers)
 *   burrow_websocket_upgrades_total, burrow_websockets_open
 *
 * `tunnel` is bounded by TunnelSeriesBook; `error_code` by the error catalog.
 */

import { ERROR_CATALOG } from '@burrow/protocol';
import { CollectedMetric } from './collected-metric.js';
import { HistogramText, labelPair, sampleLine } from './exposition-text.js';
import { HistogramSeries, REQUEST_SECONDS_BUCKETS, TUNNEL_SECONDS_BUCKETS } from './histogram-series.js';
import type { RequestObserver, RequestRecord } from './request-observer.js';
import { TunnelSeriesBook } from './tunnel-series.js';

/** Index 0: no status (the viewer left before one); 1–5: 1xx–5xx. */
export const STATUS_CLASSES = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;
export const PHASES = ['edge', 'tunnel', 'origin'] as const;
/** An error code the catalog does not know (never expected) is counted under this. */
export const OTHER_ERROR_CODE = 'other';

export function statusClassIndex(status: number): number {
  const cls = (status / 100) | 0;
  return cls >= 1 && cls <= 5 ? cls : 0;
}

/** The counts of one `tunnel` label value. */
class TunnelRequests {
  /** Requests without an error code, by status class. */
  readonly ok = new Float64Array(STATUS_CLASSES.length);
  /** Requests the edge answered or cut with an error code, by code, then status class; made on first use. */
  errors: Map<string, Float64Array> | null = null;
  /** By status class, made on first use: a tunnel that never sees a 5xx exports no 5xx histogram. */
  readonly durations: (HistogramSeries | null)[] = STATUS_CLASSES.map(() => null);
  /** `tunnel="…"`, escaped once, when the tunnel is admitted. */
  readonly tunnelLabel: string;
  /** `status_class="…",tunnel="…"` per class: the duration histogram's labels. */
  readonly classLabels: readonly string[];

  constructor(readonly label: string) {
    this.tunnelLabel = labelPair('tunnel', label);
    this.classLabels = STATUS_LABELS.map((cls) => `${cls},${this.tunnelLabel}`);
  }

  errorCounts(code: string): Float64Array {
    this.errors ??= new Map();
    const label = Object.hasOwn(ERROR_CATALOG, code) ? code : OTHER_ERROR_CODE;
    let counts = this.errors.get(label);
    if (counts === undefined) {
      counts = new Float64Array(STATUS_CLASSES.length);
      this.errors.set(label, counts);
    }
    return counts;
  }

  duration(cls: number): HistogramSeries {
    let series = this.durations[cls];
    if (series === null || series === undefined) {
      series = new HistogramSeries(TUNNEL_SECONDS_BUCKETS);
      this.durations[cls] = series;
    }
    return series;
  }
}

export class RequestMetrics implements RequestObserver {
  private readonly tunnels: TunnelSeriesBook<TunnelRequests>;
  private readonly phases = PHASES.map(() => new HistogramSeries(REQUEST_SECONDS_BUCKETS));
  private bytesIn = 0;
  private bytesOut = 0;
  private upgrades = 0;
  /** Records of upgrades whose 101 went out: each closes one of `upgrades`. */
  private upgradesClosed = 0;

  /** `maxTunnelSeries`: named tunnels with a label of their own (metrics.maxTunnelSeries). */
  constructor(maxTunnelSeries: number) {
    this.tunnels = new TunnelSeriesBook(maxTunnelSeries, (label) => new TunnelRequests(label));
  }

  record(record: RequestRecord): void {
    const series = this.tunnels.seriesFor(record.tunnel);
    const cls = statusClassIndex(record.status);
    if (record.errorCode === null) series.ok[cls]! += 1;
    else series.errorCounts(record.errorCode)[cls]! += 1;
    const { timing } = record;
    if (record.upgrade) {
      if (record.status === 101) this.upgradesClosed += 1;
    } else {
      series.duration(cls).observe(timing.totalMs / 1000);
    }
    if (timing.edgeMs !== null) this.phases[0]!.observe(timing.edgeMs / 1000);
    if (timing.tunnelMs !== null) this.phases[1]!.observe(timing.tunnelMs / 1000);
    if (timing.originMs !== null) this.phases[2]!.observe(timing.originMs / 1000);
    this.bytesIn += record.bytesIn;
    this.bytesOut += record.bytesOut;
  }

  upgraded(): void {
    this.upgrades += 1;
  }

  /** A named tunnel bound: it gets a `tunnel` label of its own while the cap allows. */
  admitTunnel(name: string): boolean {
    return this.tunnels.admit(name);
  }

  /** A name was released or changed owner: its series are removed. */
  forgetTunnel(name: string): void {
    this.tunnels.forget(name);
  }

  /** Names with a label of their own right now. */
  get labelledTunnels(): number {
    return this.tunnels.size;
  }

  /** The metric families, in exposition order; their values are read at each scrape. */
  metrics(): CollectedMetric[] {
    return [
      new CollectedMetric(
        'burrow_requests_total',
        'Requests and upgrades through tunnels, and those the edge refused before reaching one, by status class, edge error code ("" when none) and tunnel (_other: temporary, no tunnel, or beyond metrics.maxTunnelSeries).',
        'counter',
        (out) => out.writeEach(this.tunnels.list(), requestLines),
      ),
      new CollectedMetric(
        'burrow_request_duration_seconds',
        'Time from the request head at the edge to the end of the response (upgrades excluded), by status class and tunnel.',
        'histogram',
        (out) => out.writeEach(this.tunnels.list(), durationLines),
      ),
      new CollectedMetric(
        'burrow_request_phase_seconds',
        'Where request time went: edge (head to OPEN sent), tunnel (round trip less the origin), origin (its time to the response head, as the agent measured).',
        'histogram',
        (out) =>
          this.phases.forEach((histogram, i) => {
            if (histogram.count > 0) out.write(PHASE_TEXT.lines(PHASE_LABELS[i]!, histogram));
          }),
      ),
      new CollectedMetric(
        'burrow_request_bytes_total',
        'Body bytes through tunnels: in from viewers, out to viewers (upgrades: bytes after the 101).',
        'counter',
        (out) =>
          out.write(
            sampleLine('burrow_request_bytes_total', 'direction="in"', this.bytesIn) +
              sampleLine('burrow_request_bytes_total', 'direction="out"', this.bytesOut),
          ),
      ),
      new CollectedMetric(
        'burrow_websocket_upgrades_total',
        'Upgrades (WebSockets) whose 101 reached the viewer.',
        'counter',
        (out) => out.write(sampleLine('burrow_websocket_upgrades_total', '', this.upgrades)),
      ),
      new CollectedMetric(
        'burrow_websockets_open',
        'Upgraded connections (WebSockets) open through tunnels now.',
        'gauge',
        (out) =>
          out.write(
            sampleLine('burrow_websockets_open', '', Math.max(0, this.upgrades - this.upgradesClosed)),
          ),
      ),
    ];
  }
}

/** `status_class="…"` per class index. */
const STATUS_LABELS: readonly string[] = STATUS_CLASSES.map((cls) => labelPair('status_class', cls));
const PHASE_LABELS: readonly string[] = PHASES.map((phase) => labelPair('phase', phase));
const PHASE_TEXT = new HistogramText('burrow_request_phase_seconds', REQUEST_SECONDS_BUCKETS);
const DURATION_TEXT = new HistogramText('burrow_request_duration_seconds', TUNNEL_SECONDS_BUCKETS);
const NO_ERROR_LABEL = labelPair('error_code', '');
/** `error_code="…"` per code seen; bounded by the catalog (other codes count as OTHER_ERROR_CODE). */
const errorLabels = new Map<string, string>();

function errorLabel(code: string): string {
  let label = errorLabels.get(code);
  if (label === undefined) {
    label = labelPair('error_code', code);
    errorLabels.set(code, label);
  }
  return label;
}

/** One tunnel's `burrow_requests_total` lines: a series per status class and error code it has seen. */
function requestLines(series: TunnelRequests): string {
  let text = '';
  const counts = (code: string, values: Float64Array): void => {
    for (let cls = 0; cls < values.length; cls++) {
      const value = values[cls]!;
      if (value > 0)
        text += sampleLine(
          'burrow_requests_total',
          `${STATUS_LABELS[cls]!},${code},${series.tunnelLabel}`,
          value,
        );
    }
  };
  counts(NO_ERROR_LABEL, series.ok);
  series.errors?.forEach((values, code) => counts(errorLabel(code), values));
  return text;
}

/** One tunnel's `burrow_request_duration_seconds` series, one per status class it has seen. */
function durationLines(series: TunnelRequests): string {
  let text = '';
  series.durations.forEach((histogram, cls) => {
    if (histogram !== null) text += DURATION_TEXT.lines(series.classLabels[cls]!, histogram);
  });
  return text;
}
