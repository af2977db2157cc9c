/**
 * Smoke check of `node bench/handshakes.js` (scenario 8b alone): tiny rounds against a real
 * edge with its HTTPS listener and nginx over TLS, each round with a rate and the server
 * CPU per connection. It checks the harness, never speed.
 */

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { installed, runBenchScript } from './test-support.js';

const dir = mkdtempSync(join(tmpdir(), 'burrow-handshakes-test-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  perSecond: number;
  cpuUs: number;
  mainUs: number;
  perPid: number[];
}

it(
  'runs `bench/handshakes.js` for two alternated rounds and writes rates and CPU per connection',
  { timeout: 90_000 },
  async () => {
    for (const tool of ['openssl', 'h2load', '/usr/sbin/nginx']) {
      expect(installed(tool), `${tool} is needed (scripts/setup-test-machine.sh installs it)`).toBe(true);
    }
    const out = join(dir, 'handshakes.json');
    const { code, output } = await runBenchScript('bench/handshakes.js', [
      '--rounds',
      '2',
      '--seconds',
      '0.3',
      '--batch',
      '20',
      '--warmup',
      '0',
      '--out',
      out,
    ]);
    expect(code, output).toBe(0);
    const result = JSON.parse(readFileSync(out, 'utf8')) as {
      runs: Record<'burrow' | 'nginx', Run[]>;
      summary: { ratioOfMedians: number };
    };
    for (const side of ['burrow', 'nginx'] as const) {
      expect(result.runs[side]).toHaveLength(2);
      for (const r of result.runs[side]) {
        expect(r.perSecond > 0 && Number.isFinite(r.perSecond), `${side}: ${JSON.stringify(r)}`).toBe(true);
        expect(r.cpuUs > 0, `${side}: ${JSON.stringify(r)}`).toBe(true);
      }
    }
    // Burrow's CPU is split into the edge (its main thread apart) and its agent.
    for (const r of result.runs.burrow) {
      expect(r.perPid).toHaveLength(2);
      expect(r.mainUs > 0, JSON.stringify(r)).toBe(true);
    }
    expect(result.summary.ratioOfMedians > 0).toBe(true);
    expect(output).toContain('round 2 burrow');
  },
);
