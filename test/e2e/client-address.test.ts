/**
 * The real client address behind a load balancer: Debian's haproxy in front of a real edge,
 * once with PROXY protocol v2 and once as an HTTP proxy adding X-Forwarded-For; viewers
 * bound to different 127.0.0.x source addresses so per-address rules can tell them apart.
 */

import { connect } from 'node:net';
import { Agent as Dispatcher, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, startEdge, startOrigin, stopAll, type Agent, type Edge } from './harness.js';
import { originHandler } from './origin.js';
import { startHaproxy, type Haproxy } from './test-support/haproxy.js';

/** haproxy's connections leave from these, so the edge can tell the two paths apart. */
const PROXY_V2_SOURCE = '127.0.0.4';
const FORWARDFOR_SOURCE = '127.0.0.5';
const REQUESTS_PER_SECOND = 20;

let edge: Edge;
let haproxy: Haproxy;
let onlyTwo: Agent;
let open: Agent;
const dispatchers = new Map<string, Dispatcher>();

beforeAll(async () => {
  const origin = await startOrigin(originHandler);
  edge = await startEdge({
    args: ['--proxy-protocol', '--proxy-protocol-from', PROXY_V2_SOURCE, '--trust-proxy', FORWARDFOR_SOURCE],
    env: {
      BURROW_LIMITS_REQUESTS_PER_SECOND_PER_IP: String(REQUESTS_PER_SECOND),
      BURROW_PROXY_HEADER_TIMEOUT_MS: '1000',
    },
  });
  onlyTwo = await startAgent(edge, String(origin.port), { args: ['--allow-ip', '127.0.0.2'] });
  open = await startAgent(edge, String(origin.port));
  const backend = { host: '127.0.0.1', port: edge.port };
  haproxy = await startHaproxy([
    { mode: 'proxy-v2', backend, source: PROXY_V2_SOURCE },
    { mode: 'forwardfor', backend, source: FORWARDFOR_SOURCE },
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([...dispatchers.values()].map((d) => d.close()));
  await haproxy?.stop();
  await stopAll();
});

type Path = 'proxy-v2' | 'forwardfor' | 'direct';

function portOf(path: Path): number {
  if (path === 'direct') return edge.port;
  return haproxy.ports[path === 'proxy-v2' ? 0 : 1]!;
}

/** A GET to tunnel `name` from source address `from`, through `path`. */
async function get(
  path: Path,
  from: string,
  name: string,
  target = '/echo',
  headers: Record<string, string> = {},
): Promise<{ status: number; error: unknown; body: string }> {
  let dispatcher = dispatchers.get(from);
  if (dispatcher === undefined) {
    dispatcher = new Dispatcher({ localAddress: from });
    dispatchers.set(from, dispatcher);
  }
  const res = await request(`http://127.0.0.1:${portOf(path)}${target}`, {
    headers: { host: edge.host(name), ...headers },
    dispatcher,
  });
  return { status: res.statusCode, error: res.headers['x-burrow-error'], body: await res.body.text() };
}

/** The origin's view of a request's headers, lower-cased names. */
function seen(body: string): Record<string, string[]> {
  const { rawHeaders } = JSON.parse(body) as { rawHeaders: string[] };
  const out: Record<string, string[]> = {};
  for (let i = 0; i < rawHeaders.length; i += 2)
    (out[rawHeaders[i]!.toLowerCase()] ??= []).push(rawHeaders[i + 1]!);
  return out;
}

describe.each<Path>(['proxy-v2', 'forwardfor'])('behind haproxy (%s)', (path) => {
  it('--allow-ip 127.0.0.2 admits the .2 viewer and refuses the .3 viewer', async () => {
    expect((await get(path, '127.0.0.2', onlyTwo.name)).status).toBe(200);
    const refused = await get(path, '127.0.0.3', onlyTwo.name);
    expect(refused.status).toBe(403);
    expect(refused.error).toBe('POLICY_IP_DENIED');
  });

  it('the origin sees the real client in X-Forwarded-For, X-Real-IP and Forwarded', async () => {
    const headers = seen((await get(path, '127.0.0.2', open.name)).body);
    expect(headers['x-forwarded-for']).toEqual(['127.0.0.2']);
    expect(headers['x-real-ip']).toEqual(['127.0.0.2']);
    expect(headers.forwarded![0]).toMatch(/^for=127\.0\.0\.2;/);
  });

  it("a viewer's own X-Forwarded-For in front of the balancer is not believed", async () => {
    const claimed = await get(path, '127.0.0.3', onlyTwo.name, '/echo', { 'X-Forwarded-For': '127.0.0.2' });
    expect(claimed.status).toBe(403);
    const headers = seen(
      (await get(path, '127.0.0.3', open.name, '/echo', { 'X-Forwarded-For': '1.2.3.4' })).body,
    );
    expect(headers['x-forwarded-for']).toEqual(['127.0.0.3']);
  });
});

describe('per-address limits behind haproxy', () => {
  it('the edge-wide request rate counts each real client separately', async () => {
    // Addresses no other test uses, so their buckets start full. All at once: .6 sends twice
    // its budget, .7 less than its own (half through each haproxy path, one bucket).
    const [six, seven] = await Promise.all([
      Promise.all(
        Array.from({ length: 2 * REQUESTS_PER_SECOND }, () => get('proxy-v2', '127.0.0.6', open.name)),
      ),
      Promise.all(
        Array.from({ length: REQUESTS_PER_SECOND - 5 }, (_, i) =>
          get(i % 2 === 0 ? 'proxy-v2' : 'forwardfor', '127.0.0.7', open.name),
        ),
      ),
    ]);
    const limited = six.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(5);
    expect(limited[0]!.error).toBe('EDGE_RATE_LIMITED');
    expect(seven.map((r) => r.status)).toEqual(seven.map(() => 200));
  });
});

describe('viewers reaching the edge directly (not in the PROXY or trusted lists)', () => {
  it('are served by their own address, and their X-Forwarded-For is not believed', async () => {
    const refused = await get('direct', '127.0.0.3', onlyTwo.name, '/echo', {
      'X-Forwarded-For': '127.0.0.2',
    });
    expect(refused.status).toBe(403);
    expect(refused.error).toBe('POLICY_IP_DENIED');
    expect((await get('direct', '127.0.0.2', onlyTwo.name)).status).toBe(200);
    const headers = seen(
      (await get('direct', '127.0.0.3', open.name, '/echo', { 'X-Forwarded-For': '1.2.3.4' })).body,
    );
    expect(headers['x-forwarded-for']).toEqual(['127.0.0.3']);
  });
});

/** Connects from `from`, writes `data` (if any), resolves with what came back once the edge closes. */
function rawFrom(from: string, data: string | null): Promise<{ text: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = connect({ port: edge.port, host: '127.0.0.1', localAddress: from }, () => {
      if (data !== null) socket.write(data);
    });
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ text, ms: Date.now() - started }));
    setTimeout(() => reject(new Error('the edge kept the connection open')), 10_000).unref();
  });
}

describe('a bad PROXY header', () => {
  it('closes only that connection: viewers behind haproxy keep being served', async () => {
    const garbage = await rawFrom(PROXY_V2_SOURCE, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(garbage.text).toBe('');
    const malformed = await rawFrom(PROXY_V2_SOURCE, 'PROXY TCP4 999.1.1.1 127.0.0.1 1 2\r\n');
    expect(malformed.text).toBe('');
    expect((await get('proxy-v2', '127.0.0.2', onlyTwo.name)).status).toBe(200);
    await edge.proc.waitFor(
      () => edge.proc.json.find((l) => l.msg === 'closed a connection without a valid PROXY protocol header'),
      5_000,
      'the refusal in the log',
    );
  });

  it('a peer that must send one and stays silent is cut at proxy.headerTimeoutMs', async () => {
    const silent = await rawFrom(PROXY_V2_SOURCE, null);
    expect(silent.text).toBe('');
    expect(silent.ms).toBeGreaterThanOrEqual(900);
    expect((await get('proxy-v2', '127.0.0.2', onlyTwo.name)).status).toBe(200);
  });
});
