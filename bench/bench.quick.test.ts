/**
 * Smoke check of the benchmark harness: `node bench/run.js --quick` runs every scenario
 * against the built edge and agent, exits 0, and writes a JSON result in which every
 * scenario has numeric figures. It checks that the harness works, never how fast.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'burrow-bench-test-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Row {
  scenario: string;
  metric: string;
  direct: number | null;
  tunnel: number;
  ratio: number | null;
}

interface BenchResult {
  results: Record<string, { rows?: Row[]; error?: string }>;
  rows: Row[];
  errors: { scenario: string; message: string }[];
}

/** Scenario key in the JSON, and whether its figures have a direct counterpart. */
const SCENARIOS: [string, boolean][] = [
  ['smallGet50', true],
  ['smallGet1', true],
  ['transfers', true],
  ['websockets', true],
  ['resources', false],
  ['scale', true],
  ['startup', false],
  ['restart', false],
];

function runQuick(out: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, ['bench/run.js', '--quick', '--out', out], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolveRun({ code, output }));
  });
}

it(
  'runs every scenario of `bench/run.js --quick` and writes numeric figures',
  { timeout: 150_000 },
  async () => {
    const out = join(dir, 'quick.json');
    const { code, output } = await runQuick(out);
    expect(code, output.slice(-4000)).toBe(0);

    const result = JSON.parse(readFileSync(out, 'utf8')) as BenchResult;
    expect(result.errors).toEqual([]);
    for (const [key, hasDirect] of SCENARIOS) {
      const scenario = result.results[key];
      expect(scenario, `scenario ${key}`).toBeDefined();
      expect(scenario!.error, `scenario ${key}`).toBeUndefined();
      const rows = scenario!.rows ?? [];
      expect(rows.length, `rows of ${key}`).toBeGreaterThan(0);
      for (const row of rows) {
        expect(Number.isFinite(row.tunnel), `${key}: ${row.metric} tunnel figure`).toBe(true);
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
