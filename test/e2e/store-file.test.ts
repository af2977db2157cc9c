/**
 * The edge's SQLite file as an operator meets it: deleted or replaced under a running edge,
 * and a stale sidecar (-shm) that another user left behind blocking start-up.
 */

import { spawn } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EDGE_CLI, startEdge, stopAll, tempDir, type Edge } from './harness.js';

afterEach(stopAll);

interface Ready {
  status: number;
  code: string | undefined;
  body: Record<string, unknown>;
}

async function ready(edge: Edge, path = '/health/ready'): Promise<Ready> {
  const res = await fetch(`${edge.url}${path}`);
  return {
    status: res.status,
    code: res.headers.get('x-burrow-error') ?? undefined,
    body: (await res.json()) as Record<string, unknown>,
  };
}

/** Polls readiness until it is no longer 200, for at most `ms`. */
async function untilNotReady(edge: Edge, ms: number): Promise<Ready> {
  const deadline = Date.now() + ms;
  let last = await ready(edge);
  while (last.status === 200 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    last = await ready(edge);
  }
  return last;
}

describe('the SQLite file under a running edge', () => {
  it('reports not ready, naming the problem, once the file is deleted', async () => {
    const edge = await startEdge();
    expect((await ready(edge)).status).toBe(200);
    const file = join(edge.dataDir, 'burrow.db');
    rmSync(file);

    const after = await untilNotReady(edge, 5_000);
    expect(after.status).toBe(503);
    expect(after.code).toBe('TUN_ERR_STORE_REPLACED');
    expect(after.body).toMatchObject({
      status: 'unavailable',
      store: 'replaced',
      code: 'TUN_ERR_STORE_REPLACED',
    });
    expect(String(after.body.reason)).toContain(file);
    expect(String(after.body.reason)).toMatch(/deleted/);
    // /health says the same; liveness is unaffected (restarting is the cure, not a crash loop).
    const health = await ready(edge, '/health');
    expect(health.status).toBe(503);
    expect(health.code).toBe('TUN_ERR_STORE_REPLACED');
    expect((await fetch(`${edge.url}/health/live`)).status).toBe(200);

    // Logged loudly, and once, however often readiness is polled.
    for (let i = 0; i < 3; i++) await ready(edge);
    const logged = () => edge.proc.count((l) => l.code === 'TUN_ERR_STORE_REPLACED' && l.level === 50);
    await edge.proc.waitFor(() => (logged() > 0 ? true : undefined), 5_000, 'the error log line');
    expect(logged()).toBe(1);
  });

  it('reports not ready when the file is replaced by another one at the same path', async () => {
    const edge = await startEdge();
    const file = join(edge.dataDir, 'burrow.db');
    // A restored backup copied over the live file: a new inode at the same path.
    copyFileSync(file, `${file}.copy`);
    renameSync(`${file}.copy`, file);

    const after = await untilNotReady(edge, 5_000);
    expect(after.status).toBe(503);
    expect(after.code).toBe('TUN_ERR_STORE_REPLACED');
    expect(String(after.body.reason)).toMatch(/replaced/);
  });
});

/** Runs the edge CLI to completion, as another user when `uid` is given (tests run as root). */
function runEdgeCli(
  args: string[],
  ids: { uid?: number; gid?: number },
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [EDGE_CLI, ...args], {
      ...ids,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolveRun({ code, out });
    });
  });
}

describe('a stale sidecar file at start-up', () => {
  it('names a -shm file this user cannot write, and says what to do', async () => {
    // An edge that crashed leaves burrow.db-shm (and -wal) behind, owned by whoever ran it.
    const crashed = await startEdge();
    const dir = crashed.dataDir;
    crashed.proc.signal('SIGKILL');
    await crashed.proc.exited;
    const shm = join(dir, 'burrow.db-shm');
    expect(existsSync(shm)).toBe(true);

    // Then the edge runs as another user: everything is handed over but the stale -shm. Root
    // writes whatever the mode says, so as root the edge is started as `nobody` instead.
    const asRoot = process.getuid?.() === 0;
    const ids = asRoot ? { uid: 65534, gid: 65534 } : {};
    if (asRoot) {
      for (const name of ['', 'burrow.db', 'burrow.db-wal', 'edge.secret']) {
        const path = join(dir, name);
        if (existsSync(path)) chownSync(path, 65534, 65534);
      }
    }
    chmodSync(shm, 0o444);

    const run = await runEdgeCli(['start', '--listen', '127.0.0.1:0', '--data', dir], ids);
    expect(run.code).not.toBe(0);
    expect(run.out).toContain(shm);
    expect(run.out).toMatch(/not writable/);
    expect(run.out).toMatch(/remove it if no other burrow-edge/);
    expect(run.out).toContain('TUN_ERR_CONFIG_INVALID');
  });

  it('names a -wal file it cannot write and warns against removing it', async () => {
    const dir = tempDir();
    const crashed = await startEdge({ dataDir: dir });
    crashed.proc.signal('SIGKILL');
    await crashed.proc.exited;
    const wal = join(dir, 'burrow.db-wal');
    expect(existsSync(wal)).toBe(true);
    const asRoot = process.getuid?.() === 0;
    const ids = asRoot ? { uid: 65534, gid: 65534 } : {};
    if (asRoot) {
      for (const name of ['', 'burrow.db', 'burrow.db-shm', 'edge.secret'])
        chownSync(join(dir, name), 65534, 65534);
    }
    chmodSync(wal, 0o444);

    const run = await runEdgeCli(['keys', 'list', '--data', dir], ids);
    expect(run.code).not.toBe(0);
    expect(run.out).toContain(wal);
    expect(run.out).toMatch(/may hold the latest changes/);
  });
});
