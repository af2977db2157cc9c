/**
 * Smoke check of `node bench/floor.js --quick`: it starts the origin and two pipes, loads
 * all three paths, and writes numeric figures for each. It checks the harness, never speed.
 */

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runBenchScript } from './test-support.js';

const dir = mkdtempSync(join(tmpdir(), 'burrow-floor-test-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface FloorRow {
  path: string;
  rps: number;
  p99Ms: number;
  p50OneMs: number;
  mbPerS: number;
  rpsRatio: number;
}

it('runs `bench/floor.js --quick` over direct, one pipe and two pipes', { timeout: 90_000 }, async () => {
  const out = join(dir, 'floor.json');
  const { code, output } = await runBenchScript('bench/floor.js', ['--quick', '--out', out]);
  expect(code, output).toBe(0);
  const { rows } = JSON.parse(readFileSync(out, 'utf8')) as { rows: FloorRow[] };
  expect(rows.map((r) => r.path)).toEqual(['direct', 'one pipe', 'two pipes']);
  for (const row of rows) {
    for (const value of [row.rps, row.p99Ms, row.p50OneMs, row.mbPerS]) {
      expect(Number.isFinite(value) && value > 0, `${row.path}: ${JSON.stringify(row)}`).toBe(true);
    }
  }
  expect(rows[0]!.rpsRatio).toBe(1);
  expect(output).toContain('two pipes');
});
