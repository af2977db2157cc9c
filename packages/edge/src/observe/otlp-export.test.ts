/**
 * An edge told to export spans whose OpenTelemetry packages cannot load (the bundle keeps
 * them external, so an install without node_modules): the start fails with a config error
 * that says what to do, and before the store opened, so nothing is left open or written.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadEdgeConfig } from '../config/index.js';
import { EdgeServer } from '../server.js';

vi.mock('@opentelemetry/exporter-trace-otlp-http', () => {
  throw new Error("Cannot find package '@opentelemetry/exporter-trace-otlp-http'");
});

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('span export that cannot start', () => {
  it('refuses to start with TUN_ERR_CONFIG_INVALID and advice, before opening the store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'burrow-otlp-'));
    dirs.push(dir);
    const config = loadEdgeConfig({
      flags: {
        listen: '127.0.0.1:0',
        domain: 'burrow.test',
        data: dir,
        logLevel: 'silent',
        otlpEndpoint: 'http://127.0.0.1:4318',
      },
      env: {},
      cwd: dir,
    });
    const failure = await EdgeServer.start({ config }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(failure).toMatchObject({ code: 'TUN_ERR_CONFIG_INVALID' });
    expect((failure as Error).message).toContain('npm ci');
    expect((failure as Error).message).toContain('--otlp-endpoint');
    // No store file, no secret: nothing was opened that would need closing.
    expect(readdirSync(dir)).toEqual([]);
  });
});
