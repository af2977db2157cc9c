/**
 * The agent's Prometheus metrics (`--metrics-listen`), in one prom-client Registry per agent
 * so one process can run several agents. Opt in, so per request they are two updates of
 * prom-client children made once (no label objects built per request):
 *
 *   burrow_agent_requests_total{status_class}     every finished request, by the origin's status class
 *   burrow_agent_origin_errors_total{code}         requests the origin failed (TUN_ERR_ORIGIN_*; not viewer cancels)
 *   burrow_agent_origin_duration_seconds           the agent's exchange with the origin, stream arrival to end (not upgrades)
 *   burrow_agent_reconnects_total                  sessions the agent re-established after losing one
 *   burrow_agent_session_rtt_seconds{server}       the session's last PING round trip, read at scrape
 *   burrow_agent_connected, burrow_agent_active_streams, burrow_agent_build_info, process metrics
 */

import { ERROR_CATALOG, PROTOCOL_VERSION, type Session } from '@burrow/protocol';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { isOriginError, type RequestRecord } from '../request-log.js';
import { processMetrics } from './process-metrics.js';

/** The agent's version, as `burrow_agent_build_info` reports it (the CLI's --version). */
export const AGENT_VERSION = '0.1.0';

/** Index 0: no status (the origin never answered); 1–5: 1xx–5xx. */
const STATUS_CLASSES = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** Seconds: 1 ms to 1 min, as the edge's request histograms. */
const ORIGIN_SECONDS_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

export interface RenderedMetrics {
  contentType: string;
  body: string;
}

type Child = { inc(value?: number): void };

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly byClass: readonly Child[];
  private readonly errors: Counter<'code'>;
  private readonly errorChildren = new Map<string, Child>();
  private readonly originSeconds: Histogram;
  private readonly reconnects: Counter;
  private session: Session | null = null;

  /** `server`: the edge's origin (`https://tunnel.example.com`), labelling the RTT. */
  constructor(server: string) {
    const registers = [this.registry];
    const requests = new Counter({
      name: 'burrow_agent_requests_total',
      help: "Requests the agent finished, by the origin's status class (none: no response head).",
      labelNames: ['status_class'],
      registers,
    });
    this.byClass = STATUS_CLASSES.map((cls) => requests.labels(cls));
    this.errors = new Counter({
      name: 'burrow_agent_origin_errors_total',
      help: 'Requests that failed at the origin or on the way to it, by error code (TUN_ERR_ORIGIN_*); a viewer that cancels is not counted.',
      labelNames: ['code'],
      registers,
    });
    this.originSeconds = new Histogram({
      name: 'burrow_agent_origin_duration_seconds',
      help: "The agent's exchange with the origin: from the stream's arrival to the end of the response.",
      buckets: ORIGIN_SECONDS_BUCKETS,
      registers,
    });
    this.reconnects = new Counter({
      name: 'burrow_agent_reconnects_total',
      help: 'Sessions the agent re-established after losing one.',
      registers,
    });
    const live = (): Session | null => (this.session?.isClosed === false ? this.session : null);
    new Gauge({
      name: 'burrow_agent_session_rtt_seconds',
      help: "The session's last PING round trip to the edge; absent while none was measured.",
      labelNames: ['server'],
      registers,
      collect() {
        // Labelled, so a reset leaves no sample at all (an unlabelled gauge would read 0).
        this.reset();
        const rtt = live()?.rttMs ?? null;
        if (rtt !== null) this.set({ server }, rtt / 1000);
      },
    });
    new Gauge({
      name: 'burrow_agent_connected',
      help: '1 while a session to the edge is up, else 0.',
      registers,
      collect() {
        this.set(live() === null ? 0 : 1);
      },
    });
    new Gauge({
      name: 'burrow_agent_active_streams',
      help: 'Requests and upgrades in flight on the session.',
      registers,
      collect() {
        this.set(live()?.streamCount ?? 0);
      },
    });
    new Gauge({
      name: 'burrow_agent_build_info',
      help: 'Always 1; the labels say what is running.',
      labelNames: ['version', 'protocol', 'node'],
      registers,
    }).set({ version: AGENT_VERSION, protocol: String(PROTOCOL_VERSION), node: process.versions.node }, 1);
    for (const metric of processMetrics()) this.registry.registerMetric(metric);
  }

  /** One finished request (agent.ts `onRequest`). */
  request(record: RequestRecord): void {
    const cls = record.status === null ? 0 : (record.status / 100) | 0;
    this.byClass[cls >= 1 && cls <= 5 ? cls : 0]!.inc();
    // Only the origin's failures: a viewer that cancels, or a session that drops, is not one.
    if (record.error !== null && isOriginError(record.error)) this.errorCounter(record.error).inc();
    // An upgrade's duration is the socket's life, not the origin's time to answer.
    if (!record.upgrade) this.originSeconds.observe(record.durationMs / 1000);
  }

  /** A session is up; `reconnected` when it replaced a lost one. */
  connected(session: Session, reconnected: boolean): void {
    this.session = session;
    if (reconnected) this.reconnects.inc();
  }

  async render(): Promise<RenderedMetrics> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private errorCounter(code: string): Child {
    let child = this.errorChildren.get(code);
    if (child === undefined) {
      // Codes come from the catalog; anything else would be a bug, not a new series.
      child = this.errors.labels(Object.hasOwn(ERROR_CATALOG, code) ? code : 'other');
      this.errorChildren.set(code, child);
    }
    return child;
  }
}
