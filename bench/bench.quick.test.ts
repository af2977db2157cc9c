/**
 * Smoke check of the benchmark harness: `node bench/run.js --quick` runs scenarios 1–7
 * against the built edge and agent, exits 0, and writes a JSON result in which every
 * scenario has numeric figures, including those of the nginx and ssh -R references in
 * scenarios 1–5 when their programs are installed (as on the project machine and in CI).
 * It checks that the harness works, never how fast. The HTTPS and HTTP/2 scenarios (8) run in
 * their own, shorter check.
 */

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { installed, runBenchScript } from './test-support.js';

const dir = mkdtempSync(join(tmpdir(), 'burrow-bench-test-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Row {
  scenario: string;
  metric: string;
  direct: number | null;
  tunnel: number;
  ratio: number | null;
  refs: Record<string, { value: number; ratio: number | null }>;
}

interface BenchResult {
  meta: { references: Record<string, { url?: string; skipped?: string; failed?: string }> };
  results: Record<string, { rows?: Row[]; error?: string }>;
  rows: Row[];
  errors: { scenario: string; message: string }[];
}

/** Scenario key in the JSON, whether its figures have a direct counterpart, and references. */
const SCENARIOS: [string, boolean, boolean][] = [
  ['smallGet50', true, true],
  ['smallGet1', true, true],
  ['transfers', true, true],
  ['websockets', true, true],
  ['resources', false, true],
  ['scale', true, false],
  ['startup', false, false],
  ['restart', false, false],
];

/** The references whose programs are here; the run must measure them. */
const REFERENCES = [
  ...(installed('/usr/sbin/nginx') ? ['nginx'] : []),
  ...(installed('/usr/sbin/sshd') && installed('ssh') && installed('ssh-keygen') ? ['ssh'] : []),
];

function runQuick(out: string, only = '1,2,3,4,5,6,7'): Promise<{ code: number | null; output: string }> {
  return runBenchScript('bench/run.js', ['--quick', '--only', only, '--out', out]);
}

it(
  'runs scenarios 1–7 of `bench/run.js --quick` and writes numeric figures',
  { timeout: 150_000 },
  async () => {
    const out = join(dir, 'quick.json');
    const { code, output } = await runQuick(out);
    expect(code, output.slice(-4000)).toBe(0);

    const result = JSON.parse(readFileSync(out, 'utf8')) as BenchResult;
    expect(result.errors).toEqual([]);
    for (const ref of REFERENCES) expect(result.meta.references[ref]?.url, ref).toBeDefined();
    for (const [key, hasDirect, hasRefs] of SCENARIOS) {
      const scenario = result.results[key];
      expect(scenario, `scenario ${key}`).toBeDefined();
      expect(scenario!.error, `scenario ${key}`).toBeUndefined();
      const rows = scenario!.rows ?? [];
      expect(rows.length, `rows of ${key}`).toBeGreaterThan(0);
      for (const row of rows) {
        expect(Number.isFinite(row.tunnel), `${key}: ${row.metric} tunnel figure`).toBe(true);
      }
      if (hasRefs) {
        // The first row of each of these scenarios is measured on every path.
        for (const ref of REFERENCES) {
          const figure = rows[0]!.refs[ref];
          expect(figure && Number.isFinite(figure.value), `${key}: ${rows[0]!.metric} via ${ref}`).toBe(true);
        }
      }
      if (hasDirect) {
        const compared = rows.filter((row) => row.direct !== null);
        expect(compared.length, `${key} has direct figures`).toBeGreaterThan(0);
        for (const row of compared) {
          // autocannon's latencies have 1 ms resolution, so a direct p50 may be 0 (and no ratio).
          expect(Number.isFinite(row.direct) && row.direct! >= 0, `${key}: ${row.metric} direct figure`).toBe(
            true,
          );
          if (row.direct! > 0) expect(Number.isFinite(row.ratio), `${key}: ${row.metric} ratio`).toBe(true);
        }
      }
    }
  },
);

/** Scenario 8's parts, and the rows each must print with a finite Burrow figure. */
const TLS_SCENARIOS: [string, string[]][] = [
  ['httpsKeepAlive', ['requests/s, plain HTTP', 'requests/s, HTTPS', 'HTTPS ÷ plain HTTP, requests/s']],
  ['tlsHandshakes', ['new TLS connections/s', 'h2load CPU, share of its time']],
  [
    'http2',
    [
      'HTTP/2, 100 streams on 1 connection: requests/s',
      'HTTP/2: p99',
      'HTTP/1.1, 50 connections: requests/s',
    ],
  ],
];

it(
  'runs the HTTPS and HTTP/2 scenarios (`--only 8`) and prints their figures, nginx over TLS beside Burrow',
  { timeout: 90_000 },
  async () => {
    for (const tool of ['openssl', 'h2load', 'wrk']) {
      expect(installed(tool), `${tool} is needed (scripts/setup-test-machine.sh installs it)`).toBe(true);
    }
    const out = join(dir, 'tls.json');
    const { code, output } = await runQuick(out, '8');
    expect(code, output.slice(-4000)).toBe(0);
    const result = JSON.parse(readFileSync(out, 'utf8')) as BenchResult;
    expect(result.errors).toEqual([]);
    for (const [key, metrics] of TLS_SCENARIOS) {
      const rows = result.results[key]?.rows ?? [];
      for (const metric of metrics) {
        const found = rows.find((r) => r.metric === metric);
        expect(found && Number.isFinite(found.tunnel), `${key}: ${metric}`).toBe(true);
        expect(output, `the table prints ${metric}`).toContain(metric);
        if (REFERENCES.includes('nginx')) {
          expect(Number.isFinite(found!.refs.nginx?.value), `${key}: ${metric} via nginx`).toBe(true);
        }
      }
    }
    if (REFERENCES.includes('nginx')) {
      const ratio = result.results.tlsHandshakes?.rows?.find(
        (r) => r.metric === 'Burrow ÷ nginx, new TLS connections/s',
      );
      expect(ratio && ratio.tunnel > 0, 'the handshake ratio to nginx').toBe(true);
    }
  },
);

it(
  'runs the observability overhead scenario (`--only 9`): on/off figures and the dropped-record count',
  { timeout: 90_000 },
  async () => {
    const out = join(dir, 'observe.json');
    const { code, output } = await runBenchScript('bench/run.js', [
      '--quick',
      '--only',
      '9',
      '--no-refs',
      '--out',
      out,
    ]);
    expect(code, output.slice(-4000)).toBe(0);
    const result = JSON.parse(readFileSync(out, 'utf8')) as BenchResult;
    expect(result.errors).toEqual([]);
    const rows = result.results.observeOverhead?.rows ?? [];
    for (const metric of ['requests/s', 'p99']) {
      const found = rows.find((r) => r.metric === metric);
      expect(found && Number.isFinite(found.tunnel) && Number.isFinite(found.direct), metric).toBe(true);
      expect(Number.isFinite(found!.ratio), `${metric} on/off ratio`).toBe(true);
    }
    const dropped = rows.find((r) => r.metric === 'history records dropped');
    // A build without the history writer says so instead of a count.
    expect(
      dropped !== undefined &&
        (Number.isFinite(dropped.tunnel) ||
          (dropped as { note?: string }).note === 'no history writer in this build'),
    ).toBe(true);
  },
);
