/**
 * Everything the edge exposes to Prometheus, per edge (never prom-client's global registry,
 * so one process can run several edges): the per-request series (through RequestMetrics,
 * the observer), store query latency and the dropped-record count, kept as plain numbers and
 * written as text at scrape (CollectedMetric); and in a prom-client Registry, gauges read at
 * scrape time from the live edge, ACME order outcomes, build info and the process metrics.
 * `render` is what `/metrics` answers on either listener.
 */

import { PROTOCOL_VERSION } from '@burrow/protocol';
import { Counter, Gauge, Registry } from 'prom-client';
import { CollectedMetric } from './collected-metric.js';
import { HistogramText, sampleLine } from './exposition-text.js';
import { ExpositionWriter } from './exposition-writer.js';
import { HistogramSeries, QUERY_SECONDS_BUCKETS } from './histogram-series.js';
import { processMetrics } from './process-metrics.js';
import { RequestMetrics } from './request-metrics.js';
import type { RequestObserver, RequestRecord } from './request-observer.js';

/** The edge's version, as `burrow_build_info` reports it (the workspace packages share it). */
export const EDGE_VERSION = '0.1.0';

const QUERY_TEXT = new HistogramText('burrow_store_query_duration_seconds', QUERY_SECONDS_BUCKETS);

/** How long one render answers later scrapes (ms); see `render`. */
export const RENDER_REUSE_MS = 1_000;

export interface EdgeMetricsOptions {
  /** metrics.maxTunnelSeries: named tunnels with a `tunnel` label of their own. */
  maxTunnelSeries: number;
  /** How long a render is reused; RENDER_REUSE_MS unless a test needs every scrape fresh. */
  reuseMs?: number;
}

/** What the gauges read from the running edge at each scrape; every call must be cheap and not throw. */
export interface EdgeLiveState {
  /** Agent sessions connected. */
  sessions(): number;
  /** Tunnel names bound to a live session. */
  tunnels(): number;
  /** Streams (requests and upgrades in flight) open across all sessions. */
  activeStreams(): number;
  /** Requests held while their tunnel's agent reconnects. */
  waitingRequests(): number;
  /** Records the history writer dropped since start; without it the metric is not exported. */
  historyDropped?: () => number;
}

/** How an ACME order ended (certs/acme/certificate-orders.ts `OrderOutcome`). */
export type AcmeOrderResult = 'issued' | 'failed' | 'rate_guard' | 'locked';

export interface RenderedMetrics {
  contentType: string;
  /** The exposition as UTF-8 chunks, in order: encoded once, sent as they are to every scrape the render answers. */
  body: readonly Buffer[];
  /** Bytes in `body`. */
  length: number;
}

export class EdgeMetrics implements RequestObserver {
  /** prom-client's own metrics: few series (ACME outcomes, build info, live gauges, process). */
  readonly registry = new Registry();
  /** The edge's series kept as plain numbers, the per-tunnel bulk among them; written as text at scrape. */
  private readonly collected: CollectedMetric[] = [];
  private readonly requests: RequestMetrics;
  private readonly storeQueries = new HistogramSeries(QUERY_SECONDS_BUCKETS);
  private storeQueryErrors = 0;
  private readonly acmeOrders: Counter<'result'>;
  private readonly reuseMs: number;
  /** The render in progress, or the last one while it is younger than reuseMs. */
  private rendered: Promise<RenderedMetrics> | null = null;
  private renderedAt = 0;

  constructor(options: EdgeMetricsOptions) {
    const { registry } = this;
    this.reuseMs = options.reuseMs ?? RENDER_REUSE_MS;
    this.requests = new RequestMetrics(options.maxTunnelSeries);
    this.collected.push(
      ...this.requests.metrics(),
      new CollectedMetric(
        'burrow_store_query_duration_seconds',
        'Store (SQLite or PostgreSQL) query time, as Kysely measured it, failed queries included.',
        'histogram',
        (out) => out.write(QUERY_TEXT.lines('', this.storeQueries)),
      ),
      new CollectedMetric('burrow_store_query_errors_total', 'Store queries that failed.', 'counter', (out) =>
        out.write(sampleLine('burrow_store_query_errors_total', '', this.storeQueryErrors)),
      ),
    );
    this.acmeOrders = new Counter({
      name: 'burrow_acme_orders_total',
      help: 'ACME certificate orders by result: issued, failed, rate_guard (held back by the order rate guard), locked (another edge holds the order).',
      labelNames: ['result'],
      registers: [registry],
    });
    new Gauge({
      name: 'burrow_build_info',
      help: 'Always 1; the labels say what is running.',
      labelNames: ['version', 'protocol', 'node'],
      registers: [registry],
    }).set({ version: EDGE_VERSION, protocol: String(PROTOCOL_VERSION), node: process.versions.node }, 1);
    for (const metric of processMetrics()) registry.registerMetric(metric);
  }

  record(record: RequestRecord): void {
    this.requests.record(record);
  }

  upgraded(): void {
    this.requests.upgraded();
  }

  /** Gauges over the running edge, read at each scrape. Call once, when the edge exists. */
  watch(state: EdgeLiveState): void {
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read());
        },
      });
    };
    gauge('burrow_sessions', 'Agent sessions connected.', () => state.sessions());
    gauge('burrow_tunnels', 'Tunnel names served by a live agent session.', () => state.tunnels());
    gauge(
      'burrow_active_streams',
      'Streams open across all agent sessions (requests and upgrades in flight).',
      () => state.activeStreams(),
    );
    gauge('burrow_requests_waiting', "Requests waiting for their tunnel's agent to reconnect.", () =>
      state.waitingRequests(),
    );
    const dropped = state.historyDropped;
    if (dropped !== undefined) {
      this.collected.push(
        new CollectedMetric(
          'burrow_request_log_dropped_total',
          'Request records the history writer dropped (queue full, or the store failed or was too slow).',
          'counter',
          (out) => out.write(sampleLine('burrow_request_log_dropped_total', '', dropped())),
        ),
      );
    }
  }

  /** Kysely's query hook (store/open-store.ts): one query took `durationMs`. */
  storeQuery(durationMs: number, failed: boolean): void {
    this.storeQueries.observe(durationMs / 1000);
    if (failed) this.storeQueryErrors += 1;
  }

  acmeOrder(result: AcmeOrderResult): void {
    this.acmeOrders.inc({ result });
  }

  /** A named tunnel bound: it gets a `tunnel` label of its own while metrics.maxTunnelSeries allows. */
  admitTunnel(name: string): boolean {
    return this.requests.admitTunnel(name);
  }

  /** A name was released or changed owner: its series are removed from the next scrape. */
  forgetTunnel(name: string): void {
    this.requests.forgetTunnel(name);
    this.rendered = null;
  }

  /**
   * The Prometheus text exposition of every metric. At metrics.maxTunnelSeries named tunnels
   * a render is ~70k lines and ~25 ms of CPU, done in slices of well under a millisecond
   * each with the event loop free between them (exposition-writer.ts). Scrapes arriving while
   * one renders share it, and a render answers every scrape for reuseMs (1 s) after it
   * finished: values are at most that old. A failed render is not kept.
   */
  render(): Promise<RenderedMetrics> {
    const now = performance.now();
    if (this.rendered !== null && now - this.renderedAt < this.reuseMs) return this.rendered;
    const rendering = this.renderBody().then(
      (body) => {
        // Counted from the end: a slow render is still reused for the whole window.
        if (this.rendered === rendering) this.renderedAt = performance.now();
        const length = body.reduce((bytes, chunk) => bytes + chunk.length, 0);
        return { contentType: this.registry.contentType, body, length };
      },
      (err: unknown) => {
        if (this.rendered === rendering) this.rendered = null;
        throw err;
      },
    );
    this.rendered = rendering;
    // In flight: younger than any window until it settles.
    this.renderedAt = Number.POSITIVE_INFINITY;
    return rendering;
  }

  /**
   * The collected families written directly, in slices that yield the loop between them,
   * then prom-client's (a blank line between families, as it does).
   */
  private async renderBody(): Promise<Buffer[]> {
    const out = new ExpositionWriter();
    for (const metric of this.collected) {
      await metric.write(out);
      out.write('\n');
    }
    out.write(await this.registry.metrics());
    return out.finish();
  }
}
