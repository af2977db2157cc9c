/**
 * Smoke check of `node bench/syscalls.js --quick`: strace attaches to the processes of each
 * path (the origin, two pipes, nginx and ssh -R when installed, Burrow's edge and agent),
 * and every one of them gets a positive count of syscalls per request. It checks the
 * harness, never the counts.
 */

import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'burrow-syscalls-test-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function installed(file: string): boolean {
  const candidates = file.startsWith('/')
    ? [file]
    : (process.env.PATH ?? '').split(delimiter).map((d) => join(d, file));
  return candidates.some((f) => {
    try {
      accessSync(f, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

interface Measured {
  label?: string;
  requests?: number;
  counted?: { label: string; total: number }[];
  error?: string;
}

it.skipIf(!installed('strace'))(
  'counts syscalls per request on every path with `bench/syscalls.js --quick`',
  { timeout: 90_000 },
  async () => {
    const out = join(dir, 'syscalls.json');
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolveRun) => {
      const child = spawn(process.execPath, ['bench/syscalls.js', '--quick', '--out', out], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.on('exit', (exitCode) => resolveRun({ code: exitCode, output: text }));
    });
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
