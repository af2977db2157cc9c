import { describe, expect, it } from 'vitest';
import {
  parsePromText,
  sampleValue,
  samplesOf,
  type PromSample,
} from '../../../../test/support/prometheus-text.js';
import { EdgeMetrics, type RenderedMetrics } from './edge-metrics.js';
import type { RequestRecord } from './request-observer.js';

let ids = 0;

function record(overrides: Partial<RequestRecord> & { totalMs?: number } = {}): RequestRecord {
  const { totalMs = 12, ...rest } = overrides;
  return {
    id: `r${++ids}`,
    tunnel: 'web',
    userId: null,
    startedAt: new Date(0),
    method: 'GET',
    path: '/',
    host: 'web.burrow.test',
    status: 200,
    upgrade: false,
    bytesIn: 0,
    bytesOut: 0,
    clientAddress: '127.0.0.1',
    traceId: null,
    errorCode: null,
    timing: { edgeMs: 1, tunnelMs: 2, originMs: 3, totalMs },
    replayOf: null,
    capture: null,
    ...rest,
  };
}

function bodyText(rendered: RenderedMetrics): string {
  return Buffer.concat(rendered.body).toString('utf8');
}

async function scrape(metrics: EdgeMetrics): Promise<PromSample[]> {
  return parsePromText(bodyText(await metrics.render()));
}

describe('edge metrics', () => {
  it('counts requests by status class, error code and named tunnel', async () => {
    const metrics = new EdgeMetrics({ maxTunnelSeries: 10, reuseMs: 0 });
    metrics.admitTunnel('web');
    for (let i = 0; i < 3; i++) metrics.record(record());
    metrics.record(record({ status: 404 }));
    metrics.record(record({ status: 502, errorCode: 'TUN_ERR_ORIGIN_REFUSED' }));
    metrics.record(record({ status: 0, errorCode: 'TUN_ERR_STREAM_CANCELLED' }));
    metrics.record(record({ tunnel: 'k3xnz3' }));
    const s = await scrape(metrics);
    const count = (labels: Record<string, string>) => sampleValue(s, 'burrow_requests_total', labels);
    expect(count({ status_class: '2xx', tunnel: 'web' })).toBe(3);
    expect(count({ status_class: '4xx', tunnel: 'web' })).toBe(1);
    expect(count({ status_class: '5xx', error_code: 'TUN_ERR_ORIGIN_REFUSED', tunnel: 'web' })).toBe(1);
    expect(count({ status_class: 'none', error_code: 'TUN_ERR_STREAM_CANCELLED', tunnel: 'web' })).toBe(1);
    expect(count({ status_class: '2xx', tunnel: '_other' })).toBe(1);
    expect(samplesOf(s, 'burrow_requests_total')).toHaveLength(5);
  });

  it('never labels by a code outside the catalog', async () => {
    const metrics = new EdgeMetrics({ maxTunnelSeries: 10, reuseMs: 0 });
    metrics.record(record({ status: 502, errorCode: 'made up by someone' }));
    const s = await scrape(metrics);
    expect(
      sampleValue(s, 'burrow_requests_total', { status_class: '5xx', error_code: 'other', tunnel: '_other' }),
    ).toBe(1);
  });

  it('keeps a duration histogram per status class in seconds, cumulative, without upgrades', async () => {
    const metrics = new EdgeMetrics({ maxTunnelSeries: 10, reuseMs: 0 });
    metrics.admitTunnel('web');
    metrics.record(record({ totalMs: 3 })); // le 0.005
    metrics.record(record({ totalMs: 40 })); // le 0.1
    metrics.record(record({ totalMs: 90_000 })); // +Inf only
    metrics.record(record({ status: 101, upgrade: true, totalMs: 5_000 }));
    const s = await scrape(metrics);
    const bucket = (le: string) =>
      sampleValue(s, 'burrow_request_duration_seconds_bucket', { status_class: '2xx', tunnel: 'web', le });
    // Per-tunnel buckets are fewer than the edge-wide ones (scrape size at maxTunnelSeries).
    expect(samplesOf(s, 'burrow_request_duration_seconds_bucket').map((b) => b.labels.le)).toEqual([
      '0.005',
      '0.025',
      '0.1',
      '0.25',
      '0.5',
      '1',
      '2.5',
      '10',
      '+Inf',
    ]);
    expect(bucket('0.005')).toBe(1);
    expect(bucket('0.025')).toBe(1);
    expect(bucket('0.1')).toBe(2);
    expect(bucket('10')).toBe(2);
    expect(bucket('+Inf')).toBe(3);
    expect(
      sampleValue(s, 'burrow_request_duration_seconds_count', { status_class: '2xx', tunnel: 'web' }),
    ).toBe(3);
    expect(
      sampleValue(s, 'burrow_request_duration_seconds_sum', { status_class: '2xx', tunnel: 'web' }),
    ).toBeCloseTo(90.043, 6);
    expect(samplesOf(s, 'burrow_request_duration_seconds_count')).toHaveLength(1);
  });

  it('times the edge, tunnel and origin phases, skipping the ones a record lacks', async () => {
    const metrics = new EdgeMetrics({ maxTunnelSeries: 10, reuseMs: 0 });
    metrics.record(record({ timing: { edgeMs: 0.5, tunnelMs: 7, originMs: 30, totalMs: 40 } }));
    metrics.record(
      record({ status: 403, timing: { edgeMs: null, tunnelMs: null, originMs: null, totalMs: 1 } }),
    );
    const s = await scrape(metrics);
    const count = (phase: string) => sampleValue(s, 'burrow_request_phase_seconds_count', { phase });
    expect([count('edge'), count('tunnel'), count('origin')]).toEqual([1, 1, 1]);
    expect(sampleValue(s, 'burrow_request_phase_seconds_bucket', { phase: 'origin', le: '0.025' })).toBe(0);
    expect(sampleValue(s, 'burrow_request_phase_seconds_bucket', { phase: 'origin', le: '0.05' })).toBe(1);
    expect(sampleValue(s, 'burrow_request_phase_seconds_sum', { phase: 'tunnel' })).toBeCloseTo(0.007, 9);
  });

  it('adds up body bytes both ways and tracks open WebSockets', async () => {
    const metrics = new EdgeMetrics({ maxTunnelSeries: 10, reuseMs: 0 });
    metrics.record(record({ bytesIn: 100, bytesOut: 2_000 }));
    metrics.upgraded();
    metrics.upgraded();
    metrics.record(record({ status: 101, upgrade: true, bytesIn: 5, bytesOut: 7 }));
    // Refused before any 101: never counted as open.
    metrics.record(record({ status: 403, upgrade: true }));
    const s = await scrape(metrics);
    expect(sampleValue(s, 'burrow_request_bytes_total', { direction: 'in' })).toBe(105);
    expect(sampleValue(s, 'burrow_request_bytes_total', { direction: 'out' })).toBe(2_007);
    expect(sampleValue(s, 'burrow_websocket_upgrades_total')).toBe(2);
    expect(sampleValue(s, 'burrow_websockets_open')).toBe(1);
  });

  it('labels at most maxTunnelSeries named tunnels; the next ones are _other', async () => {
    const metrics = new EdgeMetrics({ maxTunnelSeries: 2, reuseMs: 0 });
    for (const name of ['a', 'b', 'c']) metrics.admitTunnel(name);
    for (const name of ['a', 'b', 'c', 'd']) metrics.record(record({ tunnel: name }));
    const s = await scrape(metrics);
    const tunnels = samplesOf(s, 'burrow_requests_total').map((x) => [x.labels.tunnel, x.value]);
    expect(tunnels).toEqual([
      ['_other', 2],
      ['a', 1],
      ['b', 1],
    ]);
  });

  it('removes a released tunnel’s series from the next scrape', async () => {
    const metrics = new EdgeMetrics({ maxTunnelSeries: 10, reuseMs: 0 });
    metrics.admitTunnel('web');
    metrics.record(record());
    expect(
      sampleValue(await scrape(metrics), 'burrow_requests_total', { status_class: '2xx', tunnel: 'web' }),
    ).toBe(1);
    metrics.forgetTunnel('web');
    const s = await scrape(metrics);
    expect(s.filter((x) => x.labels.tunnel === 'web')).toEqual([]);
    // A later holder of the name starts from zero.
    metrics.admitTunnel('web');
    metrics.record(record());
    expect(
      sampleValue(await scrape(metrics), 'burrow_requests_total', { status_class: '2xx', tunnel: 'web' }),
    ).toBe(1);
  });

  it('reads the live gauges and the dropped-record count at scrape time', async () => {
    const metrics = new EdgeMetrics({ maxTunnelSeries: 10, reuseMs: 0 });
    let sessions = 1;
    let dropped = 0;
    metrics.watch({
      sessions: () => sessions,
      tunnels: () => 3,
      activeStreams: () => 4,
      waitingRequests: () => 5,
      historyDropped: () => dropped,
    });
    let s = await scrape(metrics);
    expect(sampleValue(s, 'burrow_sessions')).toBe(1);
    expect(sampleValue(s, 'burrow_request_log_dropped_total')).toBe(0);
    sessions = 2;
    dropped = 17;
    s = await scrape(metrics);
    expect(sampleValue(s, 'burrow_sessions')).toBe(2);
    expect(sampleValue(s, 'burrow_tunnels')).toBe(3);
    expect(sampleValue(s, 'burrow_active_streams')).toBe(4);
    expect(sampleValue(s, 'burrow_requests_waiting')).toBe(5);
    expect(sampleValue(s, 'burrow_request_log_dropped_total')).toBe(17);
  });

  it('exports no dropped counter when there is no history writer to read', async () => {
    const metrics = new EdgeMetrics({ maxTunnelSeries: 10, reuseMs: 0 });
    metrics.watch({ sessions: () => 0, tunnels: () => 0, activeStreams: () => 0, waitingRequests: () => 0 });
    expect(samplesOf(await scrape(metrics), 'burrow_request_log_dropped_total')).toEqual([]);
  });

  it('times store queries, counts failures and ACME outcomes, and says what runs', async () => {
    const metrics = new EdgeMetrics({ maxTunnelSeries: 10, reuseMs: 0 });
    metrics.storeQuery(0.3, false);
    metrics.storeQuery(20, true);
    metrics.acmeOrder('issued');
    metrics.acmeOrder('failed');
    metrics.acmeOrder('failed');
    const s = await scrape(metrics);
    expect(sampleValue(s, 'burrow_store_query_duration_seconds_count')).toBe(2);
    expect(sampleValue(s, 'burrow_store_query_duration_seconds_bucket', { le: '0.0005' })).toBe(1);
    expect(sampleValue(s, 'burrow_store_query_errors_total')).toBe(1);
    expect(sampleValue(s, 'burrow_acme_orders_total', { result: 'failed' })).toBe(2);
    expect(sampleValue(s, 'burrow_acme_orders_total', { result: 'issued' })).toBe(1);
    const info = samplesOf(s, 'burrow_build_info')[0];
    expect(info?.value).toBe(1);
    expect(info?.labels).toMatchObject({ protocol: '1', node: process.versions.node });
    expect(sampleValue(s, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(samplesOf(s, 'nodejs_heap_size_used_bytes')).toHaveLength(1);
  });

  it('keeps two edges in one process apart', async () => {
    const a = new EdgeMetrics({ maxTunnelSeries: 10, reuseMs: 0 });
    const b = new EdgeMetrics({ maxTunnelSeries: 10, reuseMs: 0 });
    a.record(record());
    a.record(record());
    b.record(record());
    expect(
      sampleValue(await scrape(a), 'burrow_requests_total', { status_class: '2xx', tunnel: '_other' }),
    ).toBe(2);
    expect(
      sampleValue(await scrape(b), 'burrow_requests_total', { status_class: '2xx', tunnel: '_other' }),
    ).toBe(1);
  });

  it('renders the content type Prometheus expects', async () => {
    expect((await new EdgeMetrics({ maxTunnelSeries: 1, reuseMs: 0 }).render()).contentType).toBe(
      'text/plain; version=0.0.4; charset=utf-8',
    );
  });

  it('shares one render between concurrent scrapes and reuses it for reuseMs', async () => {
    const metrics = new EdgeMetrics({ maxTunnelSeries: 10, reuseMs: 200 });
    let renders = 0;
    const metricsOf = metrics.registry.metrics.bind(metrics.registry);
    metrics.registry.metrics = () => {
      renders += 1;
      return metricsOf();
    };
    metrics.record(record());
    const [first, second] = await Promise.all([metrics.render(), metrics.render()]);
    expect(renders).toBe(1);
    expect(second.body).toBe(first.body);
    metrics.record(record());
    const reused = await metrics.render();
    expect(renders).toBe(1);
    const count = (rendered: RenderedMetrics) =>
      sampleValue(parsePromText(bodyText(rendered)), 'burrow_requests_total', {
        status_class: '2xx',
        tunnel: '_other',
      });
    expect(count(reused)).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(count(await metrics.render())).toBe(2);
    expect(renders).toBe(2);
  });

  it('renders afresh after a tunnel is forgotten', async () => {
    const metrics = new EdgeMetrics({ maxTunnelSeries: 10 });
    metrics.admitTunnel('web');
    metrics.record(record());
    expect((await scrape(metrics)).some((s) => s.labels.tunnel === 'web')).toBe(true);
    metrics.forgetTunnel('web');
    expect((await scrape(metrics)).some((s) => s.labels.tunnel === 'web')).toBe(false);
  });
});
