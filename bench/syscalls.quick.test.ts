/**
 * Smoke check of `node bench/syscalls.js --quick`: strace attaches to the processes of each
 * path (the origin, two pipes, nginx and ssh -R when installed, Burrow's edge and agent),
 * and every one of them gets a positive count of syscalls per request. It checks the
 * harness, never the counts.
 */

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { installed, runBenchScript } from './test-support.js';

const dir = mkdtempSync(join(tmpdir(), 'burrow-syscalls-test-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Measured {
  label?: string;
  requests?: number;
  counted?: { label: string; total: number }[];
  error?: string;
}

// Not skipped without strace: scripts/setup-test-machine.sh installs it, and a missing one must fail.
it(
  'counts syscalls per request on every path with `bench/syscalls.js --quick`',
  { timeout: 90_000 },
  async () => {
    expect(installed('strace'), 'strace is missing: run scripts/setup-test-machine.sh').toBe(true);
    const out = join(dir, 'syscalls.json');
    const { code, output } = await runBenchScript('bench/syscalls.js', ['--quick', '--out', out]);
    expect(code, output).toBe(0);
    const { results } = JSON.parse(readFileSync(out, 'utf8')) as { results: Record<string, Measured> };
    const expected = ['direct', 'twoPipes', 'burrow'];
    if (installed('/usr/sbin/nginx')) expected.push('nginx');
    if (installed('/usr/sbin/sshd') && installed('ssh')) expected.push('ssh');
    for (const key of expected) {
      const m = results[key];
      expect(m?.error, `${key}: ${output.slice(-2000)}`).toBeUndefined();
      expect(m?.requests, key).toBeGreaterThan(0);
      expect(m?.counted?.length, key).toBeGreaterThan(0);
      for (const c of m!.counted!) expect(c.total, `${key} ${c.label}`).toBeGreaterThan(0);
    }
    expect(output).toContain('syscalls per request');
  },
);
