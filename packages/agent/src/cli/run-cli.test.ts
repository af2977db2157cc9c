import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TunnelError, type Session } from '@burrow/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TUNNEL_ACCESS_FLAGS } from '../config/index.js';
import { FakeEdge } from '../test-support/fake-edge.js';
import { OriginTracer } from '../tracing/origin-tracer.js';
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

  it('closes the span exporter it started when the metrics listener cannot listen', async () => {
    const taken = http.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => taken.close(() => resolve())));
    const busy = (taken.address() as AddressInfo).port;
    const close = vi.spyOn(OriginTracer.prototype, 'close');
    cleanups.push(() => close.mockRestore());
    const io = fakeProcess([
      'http',
      String(await startOrigin()),
      '--otlp-endpoint',
      'http://127.0.0.1:9/',
      '--metrics-listen',
      `127.0.0.1:${busy}`,
    ]);
    expect(await runCli(io, { dial: new FakeEdge().dial })).toBe(1);
    expect(io.out.stderr).toContain('metricsListen: cannot listen');
    expect(close).toHaveBeenCalledTimes(1);
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

const SECRETS = ['pw-alice-1', 'tok-secret-123', 'header-secret-9'];

const ACCESS_ARGS = [
  '--basic-auth',
  'alice:pw-alice-1',
  '--basic-auth',
  'bob:pw-bob-2',
  '--auth-token',
  'tok-secret-123',
  '--allow-ip',
  '10.0.0.0/8',
  '--allow-ip',
  '2001:db8::/32',
  '--deny-ip',
  '10.0.0.5',
  '--rate-limit',
  '10/s',
  '--host-header',
  'rewrite',
  '--request-header-add',
  'Authorization: Bearer header-secret-9',
  '--request-header-remove',
  'X-Debug',
  '--response-header-add',
  'X-Robots-Tag: noindex',
  '--response-header-remove',
  'X-Powered-By',
];

function expectNoSecret(io: FakeProcess): void {
  for (const secret of [...SECRETS, 'pw-bob-2']) {
    expect(io.out.stdout).not.toContain(secret);
    expect(io.out.stderr).not.toContain(secret);
  }
}

/** A GET the way the edge forwards one; resolves when the response ends. */
function viewerGet(session: Session, tunnel: string, path: string): Promise<void> {
  const stream = session.openStream();
  return new Promise((resolve, reject) => {
    stream.on('data', () => undefined);
    stream.on('end', resolve);
    stream.on('reset', reject);
    stream.open(
      {
        tunnel,
        method: 'GET',
        path,
        headers: ['Host', `${tunnel}.localhost:8080`],
        remoteAddress: '::1',
        requestId: 'r1',
      },
      { fin: true, upgrade: false },
    );
  });
}

describe('burrow http access flags', () => {
  it('sends the policy JSON in BIND and says what is on, without a secret', async () => {
    const port = await startOrigin();
    const edge = new FakeEdge();
    const io = fakeProcess(['http', String(port), ...ACCESS_ARGS]);
    const exit = runCli(io, { dial: edge.dial });
    const connection = await edge.connection(1);
    await connection.bound();
    expect(JSON.stringify(connection.binds[0]?.policy)).toBe(
      '{"basicAuth":["alice:pw-alice-1","bob:pw-bob-2"],"authToken":"tok-secret-123",' +
        '"allowIp":["10.0.0.0/8","2001:db8::/32"],"denyIp":["10.0.0.5"],"rateLimit":"10/s",' +
        '"requestHeaderAdd":["Authorization: Bearer header-secret-9"],"requestHeaderRemove":["X-Debug"],' +
        '"responseHeaderAdd":["X-Robots-Tag: noindex"],"responseHeaderRemove":["X-Powered-By"]}',
    );
    await waitFor(() => io.out.stdout !== '');
    expect(io.out.stderr).toContain(
      'burrow: tunnel default: basic auth (alice, bob), auth token, allow 10.0.0.0/8 2001:db8::/32, ' +
        'deny 10.0.0.5, rate limit 10/s per client IP, request headers -X-Debug +Authorization, ' +
        `response headers -X-Powered-By +X-Robots-Tag, Host header 127.0.0.1:${port}\n`,
    );
    // A viewer may pass the token in the query; the request line must not show it.
    await viewerGet(connection.session, 'tmp1', '/page?burrow_token=tok-secret-123&x=1');
    await waitFor(() => io.out.stdout.includes('GET'));
    expect(io.out.stdout).toMatch(/^GET \/page\?burrow_token=\*\*\*&x=1 200 \d+ms$/m);
    io.signal();
    expect(await exit).toBe(0);
    expectNoSecret(io);
  });

  it('keeps secrets out of --log json too', async () => {
    const port = await startOrigin();
    const edge = new FakeEdge();
    const io = fakeProcess(['http', String(port), '--log', 'json', ...ACCESS_ARGS]);
    const exit = runCli(io, { dial: edge.dial });
    const connection = await edge.connection(1);
    await waitFor(() => io.out.stdout.includes('"tunnel"'));
    await viewerGet(connection.session, 'tmp1', '/?burrow_token=tok-secret-123');
    await waitFor(() => io.out.stdout.includes('"request"'));
    const events = io.out.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events[1]).toMatchObject({ event: 'tunnel', access: expect.arrayContaining(['auth token']) });
    expect(events[2]).toMatchObject({ event: 'request', path: '/?burrow_token=***' });
    io.signal();
    expect(await exit).toBe(0);
    expectNoSecret(io);
  });

  it('prints the edge refusal of a bad policy in one line and exits 1', async () => {
    const port = await startOrigin();
    const edge = new FakeEdge({
      bind: (bind) => ({
        id: bind.id,
        ok: false,
        code: 'TUN_ERR_BAD_MESSAGE',
        message:
          'invalid tunnel policy: allowIp[0] must be an IPv4 or IPv6 address or CIDR block, got "10.0.0.0/33"',
      }),
    });
    const io = fakeProcess([
      'http',
      String(port),
      '--allow-ip',
      '10.0.0.0/33',
      '--auth-token',
      'tok-secret-123',
    ]);
    expect(await runCli(io, { dial: edge.dial })).toBe(1);
    expect(io.out.stdout).toBe('');
    expect(io.out.stderr.trimEnd().split('\n').at(-1)).toBe(
      'burrow: the edge refused the access settings of tunnel "default": invalid tunnel policy: ' +
        'allowIp[0] must be an IPv4 or IPv6 address or CIDR block, got "10.0.0.0/33" (TUN_ERR_BAD_MESSAGE). ' +
        'Fix the setting it names: a key of the tunnel in burrow.yml, or for burrow http the flag of the ' +
        'same words (allowIp is --allow-ip, rateLimit is --rate-limit).',
    );
    expect(edge.dials).toBe(1);
    expectNoSecret(io);
  });

  it('redacts a secret even if the edge quotes one in its refusal', async () => {
    const port = await startOrigin();
    const edge = new FakeEdge({
      bind: (bind) => ({
        id: bind.id,
        ok: false,
        code: 'TUN_ERR_BAD_MESSAGE',
        message: 'invalid tunnel policy: authToken must be shorter, got "tok-secret-123"',
      }),
    });
    const io = fakeProcess(['http', String(port), '--log', 'json', '--auth-token', 'tok-secret-123']);
    expect(await runCli(io, { dial: edge.dial })).toBe(1);
    const last = JSON.parse(io.out.stdout.trimEnd().split('\n').at(-1)!) as Record<string, unknown>;
    expect(last).toEqual({
      event: 'error',
      code: 'TUN_ERR_BAD_MESSAGE',
      message:
        'the edge refused the access settings of tunnel "default": invalid tunnel policy: ' +
        'authToken must be shorter, got "***"',
    });
    expectNoSecret(io);
  });

  it('rejects a --basic-auth without a colon before connecting, without echoing it', async () => {
    const edge = new FakeEdge();
    const io = fakeProcess(['http', '3000', '--basic-auth', 'alice-pw-alice-1']);
    expect(await runCli(io, { dial: edge.dial })).toBe(1);
    expect(io.out.stderr).toBe(
      'burrow: invalid configuration: basicAuth.0 (from flag --basic-auth) must be "user:password" ' +
        'with a user and a password, got a value that is not shown (it is a secret)\n',
    );
    expect(edge.dials).toBe(0);
    expectNoSecret(io);
  });

  it('sends capture and Server-Timing in the policy and says they are on', async () => {
    const port = await startOrigin();
    const edge = new FakeEdge();
    const io = fakeProcess([
      'http',
      String(port),
      '--capture',
      'bodies',
      '--capture-max-bytes',
      '4096',
      '--server-timing',
    ]);
    const exit = runCli(io, { dial: edge.dial });
    const connection = await edge.connection(1);
    await connection.bound();
    expect(connection.binds[0]?.policy).toEqual({
      capture: { bodies: true, maxBytes: 4096 },
      serverTiming: true,
    });
    await waitFor(() => io.out.stdout !== '');
    expect(io.out.stderr).toContain(
      'burrow: tunnel default: capture headers and bodies (4096 bytes), Server-Timing',
    );
    io.signal();
    expect(await exit).toBe(0);
  });

  it.each([
    [['--capture', 'headers'], { capture: { bodies: false } }],
    [['--capture-max-bytes', '10'], { capture: { bodies: true, maxBytes: 10 } }],
  ])('reads %j as %j', async (args, policy) => {
    const port = await startOrigin();
    const edge = new FakeEdge();
    const io = fakeProcess(['http', String(port), ...args]);
    const exit = runCli(io, { dial: edge.dial });
    const connection = await edge.connection(1);
    await connection.bound();
    expect(connection.binds[0]?.policy).toEqual(policy);
    io.signal();
    expect(await exit).toBe(0);
  });

  it('refuses a capture mode or size the edge would refuse, before connecting', async () => {
    const edge = new FakeEdge();
    const bad = fakeProcess(['http', '3000', '--capture', 'everything', '--capture-max-bytes', '2000000']);
    expect(await runCli(bad, { dial: edge.dial })).toBe(1);
    expect(bad.out.stderr).toContain(
      'capture (from flag --capture) must be "headers" (request and response headers) or "bodies"',
    );
    expect(bad.out.stderr).toContain(
      'captureMaxBytes (from flag --capture-max-bytes) must be a whole number of bytes from 1 to 1048576',
    );
    expect(edge.dials).toBe(0);
  });

  it('lists every access flag in burrow http --help', async () => {
    const io = fakeProcess(['http', '--help']);
    expect(await runCli(io, { dial: new FakeEdge().dial })).toBe(0);
    for (const flag of Object.values(TUNNEL_ACCESS_FLAGS)) expect(io.out.stdout).toContain(`--${flag}`);
    expect(io.out.stdout).toContain('--no-origin-tls-verify');
  });
});

describe('burrow start access settings', () => {
  it('sends each file tunnel its own policy', async () => {
    const [webPort, apiPort] = [await startOrigin(), await startOrigin()];
    const dir = mkdtempSync(join(tmpdir(), 'burrow-cli-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(
      join(dir, 'burrow.yml'),
      [
        'tunnels:',
        '  web:',
        `    addr: ${webPort}`,
        '    basicAuth: ["alice:pw-alice-1"]',
        '    hostHeader: rewrite',
        '  api:',
        `    addr: ${apiPort}`,
        '    rateLimit: 100/m',
        '    allowIp: [127.0.0.1]',
        '',
      ].join('\n'),
    );
    const edge = new FakeEdge();
    const io = { ...fakeProcess(['start']), cwd: dir };
    const exit = runCli(io, { dial: edge.dial });
    const connection = await edge.connection(1);
    await connection.bound(2);
    expect(connection.binds.map((b) => b.policy)).toEqual([
      { basicAuth: ['alice:pw-alice-1'] },
      { rateLimit: '100/m', allowIp: ['127.0.0.1'] },
    ]);
    await waitFor(() => io.out.stdout.split('\n').length >= 3);
    io.signal();
    expect(await exit).toBe(0);
    expectNoSecret(io);
  });
});
