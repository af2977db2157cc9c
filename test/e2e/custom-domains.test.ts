/**
 * Custom domains end to end: `burrow-edge domains add` prints a TXT record, a real DNS
 * server (Debian's dnsmasq on loopback, started here) serves it, the edge's verifier finds
 * it through BURROW_DOMAINS_RESOLVER, and the hostname then serves the domain's tunnel.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { edgeCli, startAgent, startEdge, startOrigin, stopAll, tempDir, type Edge } from './harness.js';
import { originHandler } from './origin.js';
import { freeUdpPort } from './support/free-port.js';

/** `domains add`, returning the token of the TXT record it prints. */
async function addDomain(dataDir: string, ...args: string[]): Promise<string> {
  const run = await edgeCli(dataDir, 'domains', 'add', ...args);
  expect(run.code, run.stderr.join('\n')).toBe(0);
  const match = /^_burrow\.\S+ TXT "(\w+)"$/.exec(run.stdout[0] ?? '');
  if (match === null) throw new Error(`no TXT record in: ${run.stdout.join('\n')}`);
  return match[1]!;
}

let dnsmasq: ChildProcess | null = null;

/** Starts dnsmasq answering only the given TXT records; resolves once it is serving. */
async function startDnsmasq(port: number, records: Record<string, string>): Promise<void> {
  const dir = tempDir();
  const child = spawn(
    'dnsmasq',
    [
      '--no-daemon',
      '--keep-in-foreground',
      '--log-facility=-',
      // Not /etc/dnsmasq.conf or /etc/dnsmasq.d: only what this test says.
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      `--port=${port}`,
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      `--pid-file=${join(dir, 'dnsmasq.pid')}`,
      ...Object.entries(records).map(([name, value]) => `--txt-record=${name},${value}`),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  dnsmasq = child;
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dnsmasq did not start:\n${output}`)), 10_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (/started, version/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run dnsmasq (apt-get install dnsmasq-base): ${err.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dnsmasq exited with ${String(code)}:\n${output}`));
    });
  });
}

async function stopDnsmasq(): Promise<void> {
  const child = dnsmasq;
  dnsmasq = null;
  if (child?.pid === undefined || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(child.pid, 'SIGTERM');
  await exited;
}

function get(edge: Edge, host: string, path = '/echo') {
  return request(`${edge.url}${path}`, { headers: { host } });
}

/** Polls until `host` serves the tunnel (200), failing after `timeoutMs`. */
async function waitUntilServed(edge: Edge, host: string, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await get(edge, host);
    await res.body.dump();
    if (res.statusCode === 200) return;
    if (Date.now() > until) throw new Error(`${host} still answers ${res.statusCode}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface DomainRow {
  hostname: string;
  tunnelName: string | null;
  verifiedAt: string | null;
}

async function listDomains(dataDir: string): Promise<Map<string, DomainRow>> {
  const run = await edgeCli(dataDir, 'domains', 'list', '--json');
  const rows = JSON.parse(run.stdout.join('')) as DomainRow[];
  return new Map(rows.map((row) => [row.hostname, row]));
}

let edge: Edge;
let dnsPort: number;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  dnsPort = await freeUdpPort();
  edge = await startEdge({
    env: { BURROW_DOMAINS_RESOLVER: `127.0.0.1:${dnsPort}`, BURROW_DOMAINS_VERIFY_INTERVAL_MS: '1000' },
  });
  const data = edge.dataDir;
  for (const user of ['alice', 'bob']) expect((await edgeCli(data, 'users', 'create', user)).code).toBe(0);
  const key = await edgeCli(data, 'keys', 'create', '--user', 'alice', '--label', 'laptop');
  const aliceKey = key.stdout[0]!;

  tokens.app = await addDomain(data, 'app.example.org', '--user', 'alice', '--tunnel', 'myapp');
  tokens.wrong = await addDomain(data, 'wrong.example.org', '--user', 'alice', '--tunnel', 'myapp');
  tokens.late = await addDomain(data, 'late.example.org', '--user', 'alice');
  tokens.bob = await addDomain(data, 'bob.example.net', '--user', 'bob');

  const origin = await startOrigin(originHandler);
  const wss = new WebSocketServer({ server: origin.server });
  wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data)));
  await startAgent(edge, String(origin.port), { name: 'myapp', token: aliceKey });
}, 60_000);

afterAll(async () => {
  await stopDnsmasq();
  await stopAll();
});

describe('custom domains verified through a real DNS server', () => {
  it('refuses to route another user’s domain to a tunnel from the CLI', async () => {
    const added = await edgeCli(
      edge.dataDir,
      'domains',
      'add',
      'other.example.net',
      '--user',
      'bob',
      '--tunnel',
      'myapp',
    );
    expect(added.code).toBe(1);
    expect(added.stderr.join('\n')).toMatch(/"myapp" is reserved by user "alice"/);
    const routed = await edgeCli(edge.dataDir, 'domains', 'route', 'bob.example.net', 'myapp');
    expect(routed.code).toBe(1);
    expect(routed.stderr.join('\n')).toMatch(/"myapp" is reserved by user "alice"/);
  });

  it('answers 404 naming the host while a domain is unverified', async () => {
    const res = await get(edge, 'app.example.org', '/');
    expect(res.statusCode).toBe(404);
    expect(await res.body.text()).toContain('app.example.org');
    expect((await listDomains(edge.dataDir)).get('app.example.org')?.verifiedAt).toBeNull();
  });

  it('serves the tunnel once the TXT record is published, with X-Forwarded-Host the custom host', async () => {
    await startDnsmasq(dnsPort, {
      '_burrow.app.example.org': tokens.app!,
      '_burrow.wrong.example.org': `${tokens.wrong!}x`,
      '_burrow.late.example.org': tokens.late!,
      '_burrow.bob.example.net': tokens.bob!,
    });
    await waitUntilServed(edge, 'app.example.org');
    const res = await get(edge, 'app.example.org', '/echo?via=custom');
    expect(res.statusCode).toBe(200);
    const echo = (await res.body.json()) as { url: string; rawHeaders: string[] };
    expect(echo.url).toBe('/echo?via=custom');
    const forwardedHost = echo.rawHeaders.findIndex((h) => h.toLowerCase() === 'x-forwarded-host');
    expect(echo.rawHeaders[forwardedHost + 1]).toBe('app.example.org');
    expect(
      edge.proc.count((l) => l.msg === 'custom domain verified' && l.hostname === 'app.example.org'),
    ).toBe(1);
    // The tunnel's own name keeps working alongside.
    expect((await get(edge, edge.host('myapp'))).statusCode).toBe(200);
  });

  it('carries WebSocket upgrades on the custom host', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${edge.port}/ws`, { headers: { host: 'app.example.org' } });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const reply = new Promise<string>((r) => ws.once('message', (data) => r((data as Buffer).toString())));
    ws.send('hello via app.example.org');
    expect(await reply).toBe('hello via app.example.org');
    ws.close();
  });

  it('never verifies a wrong TXT value, and a verified domain without a tunnel still gets 404', async () => {
    // bob's record is right: once it is verified, wrong's record has been seen as often.
    const until = Date.now() + 15_000;
    while ((await listDomains(edge.dataDir)).get('bob.example.net')?.verifiedAt == null) {
      if (Date.now() > until) throw new Error('bob.example.net was never verified');
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 2_500));
    const domains = await listDomains(edge.dataDir);
    expect(domains.get('wrong.example.org')?.verifiedAt).toBeNull();
    expect((await get(edge, 'wrong.example.org')).statusCode).toBe(404);
    expect(domains.get('bob.example.net')?.tunnelName).toBeNull();
    expect((await get(edge, 'bob.example.net')).statusCode).toBe(404);
  });

  it('picks up `domains route` made from the CLI without a restart', async () => {
    const until = Date.now() + 15_000;
    while ((await listDomains(edge.dataDir)).get('late.example.org')?.verifiedAt == null) {
      if (Date.now() > until) throw new Error('late.example.org was never verified');
      await new Promise((r) => setTimeout(r, 200));
    }
    expect((await get(edge, 'late.example.org')).statusCode).toBe(404);
    const routed = await edgeCli(edge.dataDir, 'domains', 'route', 'late.example.org', 'myapp');
    expect(routed.code, routed.stderr.join('\n')).toBe(0);
    await waitUntilServed(edge, 'late.example.org', 10_000);
  });

  it('answers random hosts 404 quickly without disturbing known ones', async () => {
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) => get(edge, `r${i}.attacker.test`, '/')),
    );
    for (const res of answers) {
      expect(res.statusCode).toBe(404);
      await res.body.dump();
    }
    expect((await get(edge, 'app.example.org')).statusCode).toBe(200);
  });
});
