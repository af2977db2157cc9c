/**
 * The edge's /metrics render at metrics.maxTunnelSeries (1,000 named tunnels, every status
 * class): read back with a strict exposition reader and with Prometheus's own (promtool),
 * every family's names, label sets and values checked against what was recorded, released
 * tunnels' series gone, and the render done in slices that leave the event loop free.
 */
import { spawn } from 'node:child_process';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { parseExposition, type Family } from '../../../../test/support/prometheus-exposition.js';
import { EdgeMetrics, type RenderedMetrics } from './edge-metrics.js';
import { REQUEST_SECONDS_BUCKETS, TUNNEL_SECONDS_BUCKETS } from './histogram-series.js';
import { MetricsListener } from './metrics-listener.js';
import type { RequestRecord } from './request-observer.js';

const CAP = 1_000;
const STATUSES = [0, 101, 200, 302, 404, 503] as const;
const CLASSES = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;
/** ms; 5, 25, 250 and 2,500 sit exactly on bucket bounds (le is inclusive), 12,000 above them all. */
const DURATIONS_MS = [3, 5, 20, 25, 99, 250, 700, 2_500, 9_000, 12_000];

const listeners: MetricsListener[] = [];
afterEach(async () => {
  for (const listener of listeners.splice(0)) await listener.close();
});

function record(tunnel: string, status: number, totalMs: number, extra: Partial<RequestRecord> = {}) {
  return {
    id: 'r',
    tunnel,
    userId: null,
    startedAt: new Date(0),
    method: 'GET',
    path: '/',
    host: `${tunnel}.burrow.test`,
    status,
    upgrade: false,
    bytesIn: 1,
    bytesOut: 10,
    clientAddress: '127.0.0.1',
    traceId: null,
    errorCode: null,
    timing: { edgeMs: 1, tunnelMs: 2, originMs: 30, totalMs },
    replayOf: null,
    capture: null,
    ...extra,
  } satisfies RequestRecord;
}

/** What the test recorded, kept apart from the edge's own bookkeeping. */
class Expected {
  /** `tunnel|status_class|error_code` → requests. */
  readonly requests = new Map<string, number>();
  /** `tunnel|status_class` → durations in seconds, in order. */
  readonly durations = new Map<string, number[]>();
  records = 0;

  add(tunnel: string, cls: number, code: string, seconds: number | null): void {
    const key = `${tunnel}|${CLASSES[cls]}|${code}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    if (seconds !== null) {
      const durations = this.durations.get(`${tunnel}|${CLASSES[cls]}`) ?? [];
      durations.push(seconds);
      this.durations.set(`${tunnel}|${CLASSES[cls]}`, durations);
    }
    this.records += 1;
  }
}

const name = (i: number) => `t${String(i).padStart(4, '0')}`;

/** An edge at the cap: every named tunnel saw every status class, some error codes too. */
function loadedEdge(): { metrics: EdgeMetrics; expected: Expected } {
  const metrics = new EdgeMetrics({ maxTunnelSeries: CAP, reuseMs: 0 });
  metrics.watch({
    sessions: () => 3,
    tunnels: () => CAP,
    activeStreams: () => 4,
    waitingRequests: () => 5,
    historyDropped: () => 7,
  });
  const expected = new Expected();
  const send = (tunnel: string, label: string, cls: number, totalMs: number, code: string | null) => {
    metrics.record(record(tunnel, STATUSES[cls]!, totalMs, { errorCode: code }));
    expected.add(label, cls, code ?? '', totalMs / 1000);
  };
  for (let i = 0; i < CAP; i++) {
    expect(metrics.admitTunnel(name(i))).toBe(true);
    for (let cls = 0; cls < STATUSES.length; cls++)
      for (let k = 0; k <= (i + cls) % 3; k++)
        send(name(i), name(i), cls, DURATIONS_MS[(i * 7 + cls * 3 + k) % DURATIONS_MS.length]!, null);
    if (i % 4 === 0) send(name(i), name(i), 5, 40, 'TUN_ERR_ORIGIN_REFUSED');
    if (i % 10 === 0) send(name(i), name(i), 0, 15, 'TUN_ERR_STREAM_CANCELLED');
  }
  // Beyond the cap, and temporary names: all `_other`.
  expect(metrics.admitTunnel('over-the-cap')).toBe(false);
  send('over-the-cap', '_other', 2, 20, null);
  send('k3xnz3', '_other', 4, 5, null);
  // An upgrade: counted as a request, never timed.
  metrics.upgraded();
  metrics.upgraded();
  metrics.record(record(name(1), 101, 5_000, { upgrade: true }));
  expected.add(name(1), 1, '', null);
  metrics.storeQuery(0.3, false);
  metrics.storeQuery(20, true);
  metrics.acmeOrder('issued');
  return { metrics, expected };
}

function bodyText(rendered: RenderedMetrics): string {
  return Buffer.concat(rendered.body).toString('utf8');
}

async function families(metrics: EdgeMetrics): Promise<Map<string, Family>> {
  return parseExposition(bodyText(await metrics.render()));
}

function family(all: Map<string, Family>, familyName: string): Family {
  const found = all.get(familyName);
  if (found === undefined) throw new Error(`no family ${familyName}`);
  return found;
}

/** The label names of each sample of a family (le left out), as sorted, joined sets. */
function labelSets(f: Family): string[] {
  const sets = new Set(
    f.samples.map((s) =>
      Object.keys(s.labels)
        .filter((k) => k !== 'le')
        .sort()
        .join(','),
    ),
  );
  return [...sets];
}

/** Cumulative bucket counts of `values` for `bounds`, then +Inf. */
function buckets(values: number[], bounds: readonly number[]): number[] {
  return [...bounds.map((bound) => values.filter((v) => v <= bound).length), values.length];
}

interface HistogramRead {
  les: string[];
  buckets: number[];
  sum?: number;
  count?: number;
}

/** A histogram family's series by `keyOf(labels)`: bucket `le`s and values in order, `_sum`, `_count`. */
function histograms(
  f: Family,
  keyOf: (labels: Record<string, string>) => string,
): Map<string, HistogramRead> {
  const series = new Map<string, HistogramRead>();
  for (const s of f.samples) {
    const key = keyOf(s.labels);
    let h = series.get(key);
    if (h === undefined) series.set(key, (h = { les: [], buckets: [] }));
    if (s.name === `${f.name}_bucket`) {
      h.les.push(s.labels.le!);
      h.buckets.push(s.value);
    } else if (s.name === `${f.name}_sum`) h.sum = s.value;
    else h.count = s.value;
  }
  return series;
}

describe('/metrics at metrics.maxTunnelSeries', () => {
  it('is valid exposition with every family, label set and value as recorded', async () => {
    const { metrics, expected } = loadedEdge();
    const all = await families(metrics);

    const ours = [...all.keys()].filter((n) => !/^(process|nodejs)_/.test(n));
    expect(ours.sort()).toEqual(
      [
        'burrow_requests_total',
        'burrow_request_duration_seconds',
        'burrow_request_phase_seconds',
        'burrow_request_bytes_total',
        'burrow_websocket_upgrades_total',
        'burrow_websockets_open',
        'burrow_store_query_duration_seconds',
        'burrow_store_query_errors_total',
        'burrow_request_log_dropped_total',
        'burrow_acme_orders_total',
        'burrow_build_info',
        'burrow_sessions',
        'burrow_tunnels',
        'burrow_active_streams',
        'burrow_requests_waiting',
      ].sort(),
    );
    for (const f of all.values()) expect(f.help, f.name).not.toBeNull();
    expect(all.get('process_cpu_user_seconds_total')?.type).toBe('counter');

    const types = Object.fromEntries(ours.map((n) => [n, family(all, n).type]));
    expect(types).toMatchObject({
      burrow_requests_total: 'counter',
      burrow_request_duration_seconds: 'histogram',
      burrow_request_phase_seconds: 'histogram',
      burrow_store_query_duration_seconds: 'histogram',
      burrow_websockets_open: 'gauge',
      burrow_sessions: 'gauge',
    });
    const labelled = Object.fromEntries(ours.map((n) => [n, labelSets(family(all, n))]));
    expect(labelled).toEqual({
      burrow_requests_total: ['error_code,status_class,tunnel'],
      burrow_request_duration_seconds: ['status_class,tunnel'],
      burrow_request_phase_seconds: ['phase'],
      burrow_request_bytes_total: ['direction'],
      burrow_websocket_upgrades_total: [''],
      burrow_websockets_open: [''],
      burrow_store_query_duration_seconds: [''],
      burrow_store_query_errors_total: [''],
      burrow_request_log_dropped_total: [''],
      burrow_acme_orders_total: ['result'],
      burrow_build_info: ['node,protocol,version'],
      burrow_sessions: [''],
      burrow_tunnels: [''],
      burrow_active_streams: [''],
      burrow_requests_waiting: [''],
    });

    // Every request series, and nothing else, with its count.
    const requests = new Map(
      family(all, 'burrow_requests_total').samples.map((s) => [
        `${s.labels.tunnel}|${s.labels.status_class}|${s.labels.error_code}`,
        s.value,
      ]),
    );
    expect(requests.size).toBe(expected.requests.size);
    expect(requests).toEqual(expected.requests);
    expect(new Set([...requests.keys()].map((k) => k.split('|')[0])).size).toBe(CAP + 1);

    // Every duration series: the 8 per-tunnel bounds, cumulative counts of what was sent.
    const durations = histograms(
      family(all, 'burrow_request_duration_seconds'),
      (labels) => `${labels.tunnel}|${labels.status_class}`,
    );
    expect(durations.size).toBe(expected.durations.size);
    for (const [key, values] of expected.durations) {
      const h = durations.get(key)!;
      expect(h.les).toEqual([...TUNNEL_SECONDS_BUCKETS.map(String), '+Inf']);
      expect(h.buckets, key).toEqual(buckets(values, TUNNEL_SECONDS_BUCKETS));
      expect(h.count).toBe(values.length);
      expect(h.sum).toBeCloseTo(
        values.reduce((a, b) => a + b, 0),
        9,
      );
    }

    const phases = histograms(family(all, 'burrow_request_phase_seconds'), (labels) => labels.phase!);
    const n = expected.records;
    const phaseMs = { edge: 1, tunnel: 2, origin: 30 };
    for (const [phase, ms] of Object.entries(phaseMs)) {
      const h = phases.get(phase)!;
      expect(h.buckets).toEqual(buckets(Array<number>(n).fill(ms / 1000), REQUEST_SECONDS_BUCKETS));
      expect(h.sum).toBeCloseTo((n * ms) / 1000, 6);
    }
    const value = (familyName: string, labels: Record<string, string> = {}) =>
      family(all, familyName).samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        ?.value;
    expect(value('burrow_request_bytes_total', { direction: 'in' })).toBe(n);
    expect(value('burrow_request_bytes_total', { direction: 'out' })).toBe(10 * n);
    expect(value('burrow_websocket_upgrades_total')).toBe(2);
    expect(value('burrow_websockets_open')).toBe(1);
    expect(histograms(family(all, 'burrow_store_query_duration_seconds'), () => '').get('')?.count).toBe(2);
    expect(value('burrow_store_query_errors_total')).toBe(1);
    expect(value('burrow_request_log_dropped_total')).toBe(7);
    expect(value('burrow_acme_orders_total', { result: 'issued' })).toBe(1);
    expect(value('burrow_sessions')).toBe(3);
    expect(value('burrow_tunnels')).toBe(CAP);
  });

  it('drops released tunnels’ series from the next render and gives their slots to new names', async () => {
    const { metrics, expected } = loadedEdge();
    const released = [0, 1, 499, 998, 999].map(name);
    for (const tunnel of released) metrics.forgetTunnel(tunnel);
    const all = await families(metrics);
    for (const f of all.values())
      expect(
        f.samples.filter((s) => released.includes(s.labels.tunnel ?? '')),
        f.name,
      ).toEqual([]);
    const tunnels = new Set(family(all, 'burrow_requests_total').samples.map((s) => s.labels.tunnel));
    expect(tunnels.size).toBe(CAP - released.length + 1);
    // The others are untouched.
    const kept = [...expected.requests].filter(([key]) => !released.includes(key.split('|')[0]!));
    const requests = family(all, 'burrow_requests_total').samples;
    expect(requests).toHaveLength(kept.length);

    expect(metrics.admitTunnel('newcomer')).toBe(true);
    metrics.record(record('newcomer', 200, 20));
    const after = await families(metrics);
    expect(
      family(after, 'burrow_requests_total').samples.find((s) => s.labels.tunnel === 'newcomer')?.value,
    ).toBe(1);
  });

  it('renders in slices, leaving the event loop free between them', async () => {
    const { metrics } = loadedEdge();
    let turns = 0;
    let done = false;
    const rendering = metrics.render().finally(() => (done = true));
    while (!done) {
      await nextTurn();
      turns += 1;
    }
    const rendered = await rendering;
    // ~6.5 MB in slices of 64 Ki characters: about 100 turns of the loop ran meanwhile.
    expect(turns).toBeGreaterThan(50);
    expect(rendered.body.length).toBeGreaterThan(50);
    expect(rendered.length).toBe(rendered.body.reduce((bytes, chunk) => bytes + chunk.length, 0));
  });

  it('repeats no series when a name is released and bound again while a render is in flight', async () => {
    const { metrics } = loadedEdge();
    let done = false;
    const rendering = metrics.render().finally(() => (done = true));
    await nextTurn();
    expect(done).toBe(false);
    metrics.forgetTunnel(name(1));
    expect(metrics.admitTunnel(name(1))).toBe(true);
    metrics.record(record(name(1), 200, 20));
    // parseExposition throws on a duplicate series.
    const all = parseExposition(bodyText(await rendering));
    expect(family(all, 'burrow_requests_total').samples.length).toBeGreaterThan(CAP);
    const fresh = await families(metrics);
    expect(family(fresh, 'burrow_requests_total').samples.filter((s) => s.labels.tunnel === name(1))).toEqual(
      [
        {
          name: 'burrow_requests_total',
          labels: { status_class: '2xx', error_code: '', tunnel: name(1) },
          value: 1,
        },
      ],
    );
  });

  it('arrives whole over HTTP and Prometheus’s own parser (promtool) reads it', async () => {
    const { metrics } = loadedEdge();
    const listener = await MetricsListener.start({
      host: '127.0.0.1',
      port: 0,
      render: () => metrics.render(),
      onError: (err) => {
        throw err;
      },
    });
    listeners.push(listener);
    const res = await fetch(`http://127.0.0.1:${listener.port}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(text));
    expect(family(parseExposition(text), 'burrow_requests_total').samples.length).toBeGreaterThan(CAP);

    const { code, output } = await promtoolCheck(text);
    // 0: clean; 3: lint findings only. A text the parser rejects exits 1.
    expect([0, 3]).toContain(code);
    // The only findings are prom-client's own gauge names (nodejs_active_*_total).
    const findings = output.split('\n').filter((line) => line !== '');
    expect(findings.filter((line) => !line.startsWith('nodejs_active_'))).toEqual([]);
  });
});

describe('the strict exposition reader', () => {
  const header = '# HELP a_total x\n# TYPE a_total counter\n';
  const histogramHead = '# HELP h x\n# TYPE h histogram\n';
  it.each([
    ['a duplicate series', `${header}a_total{x="1"} 1\na_total{x="1"} 2\n`],
    ['a second TYPE', `${header}# TYPE a_total counter\na_total 1\n`],
    ['a family split in two', `${header}a_total 1\n# HELP b x\nb 1\na_total{x="2"} 1\n`],
    ['a negative counter', `${header}a_total -1\n`],
    ['a bad escape', `${header}a_total{x="\\t"} 1\n`],
    ['+Inf unlike _count', `${histogramHead}h_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n`],
    [
      'falling buckets',
      `${histogramHead}h_bucket{le="1"} 2\nh_bucket{le="2"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n`,
    ],
    ['no +Inf', `${histogramHead}h_bucket{le="1"} 1\nh_sum 1\nh_count 1\n`],
  ])('rejects %s', (_why, text) => {
    expect(() => parseExposition(text)).toThrow();
  });

  it('accepts a well-formed text', () => {
    const text = `${header}a_total{x="q\\"\\n"} 1\n\n${histogramHead}h_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3.5\nh_count 2\n`;
    expect([...parseExposition(text).keys()]).toEqual(['a_total', 'h']);
  });
});

/** `promtool check metrics` over `text` (stdin): its exit code and what it printed. */
function promtoolCheck(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill(), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
    child.stdin.end(text);
  });
}
