import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TunnelError } from '@burrow/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeEdge } from '../testing/fake-edge.js';
import { runCli, type CliIo } from './run-cli.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface FakeProcess extends CliIo {
  out: { stdout: string; stderr: string };
  signal(): void;
  exits: number[];
}

function fakeProcess(args: string[], env: Record<string, string> = {}): FakeProcess {
  const out = { stdout: '', stderr: '' };
  const handlers: (() => void)[] = [];
  const exits: number[] = [];
  return {
    args,
    env,
    cwd: '/nonexistent-burrow-test-dir',
    stdout: { write: (text: string) => (out.stdout += text), isTTY: false },
    stderr: { write: (text: string) => (out.stderr += text) },
    onSignal: (handler) => handlers.push(handler),
    exit: (code) => exits.push(code),
    out,
    exits,
    signal: () => handlers.forEach((handler) => handler()),
  };
}

async function startOrigin(): Promise<number> {
  const server = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 3000;
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (condition()) resolve();
      else if (Date.now() > deadline) reject(new Error('condition not met in time'));
      else setTimeout(poll, 5);
    };
    poll();
  });
}

describe('burrow http', () => {
  it('prints the public URL alone as the first stdout line, then exits 0 on Ctrl-C', async () => {
    const port = await startOrigin();
    const edge = new FakeEdge();
    const io = fakeProcess(['http', String(port), '--server', 'http://edge.test:8080']);
    const exit = runCli(io, { dial: edge.dial });
    await waitFor(() => io.out.stdout.includes('\n'));
    expect(io.out.stdout).toBe('http://tmp1.localhost:8080\n');
    expect(io.out.stderr.split('\n')[0]).toBe('burrow: connecting to http://edge.test:8080');
    expect(io.out.stderr).toContain(`forwards to http://127.0.0.1:${port}`);
    io.signal();
    expect(await exit).toBe(0);
    expect(io.exits).toEqual([]);
    expect(io.out.stderr).toContain('burrow: stopping');
  });

  it('passes --name and the token from BURROW_TOKEN to the edge', async () => {
    const port = await startOrigin();
    const edge = new FakeEdge();
    const io = fakeProcess(['http', `localhost:${port}`, '--name', 'demo'], { BURROW_TOKEN: 'key-from-env' });
    const exit = runCli(io, { dial: edge.dial });
    const connection = await edge.connection(1);
    expect((await connection.hello).token).toBe('key-from-env');
    await connection.bound();
    expect(connection.binds[0]?.name).toBe('demo');
    await waitFor(() => io.out.stdout !== '');
    expect(io.out.stdout).toBe('http://demo.localhost:8080\n');
    io.signal();
    expect(await exit).toBe(0);
  });

  it('explains a rejected API key in one line and exits 1', async () => {
    const port = await startOrigin();
    const edge = new FakeEdge({ hello: () => new TunnelError('TUN_ERR_UNAUTHORIZED', 'unknown API key') });
    const io = fakeProcess(['http', String(port), '--token', 'wrong']);
    expect(await runCli(io, { dial: edge.dial })).toBe(1);
    expect(io.out.stdout).toBe('');
    expect(io.out.stderr.trimEnd().split('\n').at(-1)).toBe(
      'burrow: the edge rejected the API key (TUN_ERR_UNAUTHORIZED). Check --token or BURROW_TOKEN.',
    );
  });

  it('says which target forms are accepted for a bad target', async () => {
    const io = fakeProcess(['http', 'not a target']);
    expect(await runCli(io, { dial: new FakeEdge().dial })).toBe(1);
    expect(io.out.stderr).toContain(
      'a port (3000), host:port (localhost:3000) or URL (http://localhost:3000)',
    );
    expect(io.out.stderr.startsWith('burrow: ')).toBe(true);
    expect(io.out.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('writes JSON lines on stdout only with --log json', async () => {
    const port = await startOrigin();
    const edge = new FakeEdge();
    const io = fakeProcess(['http', String(port), '--log', 'json']);
    const exit = runCli(io, { dial: edge.dial });
    await waitFor(() => io.out.stdout.split('\n').length >= 3);
    const events = io.out.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: string; url?: string });
    expect(events.map((e) => e.event)).toEqual(['connected', 'tunnel']);
    expect(events[1]?.url).toBe('http://tmp1.localhost:8080');
    io.signal();
    expect(await exit).toBe(0);
    expect(io.out.stderr).toBe('');
  });

  it('exits at once on a second Ctrl-C', async () => {
    const port = await startOrigin();
    const edge = new FakeEdge();
    const io = fakeProcess(['http', String(port)]);
    const exit = runCli(io, { dial: edge.dial });
    await waitFor(() => io.out.stdout !== '');
    io.signal();
    io.signal();
    expect(io.exits).toEqual([130]);
    await exit;
  });

  it('rejects an unknown --log format before connecting', async () => {
    const edge = new FakeEdge();
    const io = fakeProcess(['http', '3000', '--log', 'xml']);
    expect(await runCli(io, { dial: edge.dial })).toBe(1);
    expect(io.out.stderr).toContain("argument 'xml' is invalid");
    expect(edge.dials).toBe(0);
  });
});

describe('burrow start', () => {
  it('starts every tunnel of burrow.yml over one connection, each URL on its own stdout line', async () => {
    const [webPort, apiPort] = [await startOrigin(), await startOrigin()];
    const dir = mkdtempSync(join(tmpdir(), 'burrow-cli-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(
      join(dir, 'burrow.yml'),
      `server: http://edge.test:8080\ntunnels:\n  web:\n    addr: ${webPort}\n    name: web\n  api:\n    addr: localhost:${apiPort}\n    name: api\n`,
    );
    const edge = new FakeEdge();
    const io = { ...fakeProcess(['start']), cwd: dir };
    const exit = runCli(io, { dial: edge.dial });
    await waitFor(() => io.out.stdout.split('\n').length >= 3);
    expect(io.out.stdout).toBe('http://web.localhost:8080\nhttp://api.localhost:8080\n');
    expect(edge.dials).toBe(1);
    expect(edge.connections[0]!.binds.map((b) => b.name)).toEqual(['web', 'api']);
    io.signal();
    expect(await exit).toBe(0);
  });

  it('says there are no tunnels when there is no config file', async () => {
    const io = fakeProcess(['start']);
    expect(await runCli(io, { dial: new FakeEdge().dial })).toBe(1);
    expect(io.out.stderr).toMatch(/^burrow: invalid configuration: no tunnels to start/);
  });
});
