/**
 * Response heads from an origin that break HTTP or the tunnel's head limits: the agent
 * answers that stream alone with a clean, coded error (or a cleaned-up head), and never
 * sends a HEAD the edge would refuse. The origin is raw TCP, to send bytes no HTTP
 * library would produce.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  Session,
  createMemoryTransportPair,
  realTimers,
  type RequestHead,
  type ResponseHead,
  type TunnelError,
} from '@burrow/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { routeFor, serveStream } from './forwarder.js';
import { OriginPools } from './origin-pools.js';
import { AGENT_SESSION_LIMITS } from './session-client.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An origin that answers every request with `response` (latin1 bytes) and closes. */
async function rawOrigin(response: string): Promise<URL> {
  const server = net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.once('data', () => socket.end(Buffer.from(response, 'latin1')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
}

interface Outcome {
  head: ResponseHead | null;
  reset: TunnelError | null;
}

function tunnel(routes: Record<string, URL>): { edge: Session; edgeClosed: () => boolean } {
  const [agentTransport, edgeTransport] = createMemoryTransportPair();
  const agent = new Session({ role: 'agent', transport: agentTransport, ...AGENT_SESSION_LIMITS });
  const edge = new Session({ role: 'edge', transport: edgeTransport, ...AGENT_SESSION_LIMITS });
  let closed = false;
  edge.once('close', () => (closed = true));
  agent.once('close', () => (closed = true));
  const pools = new OriginPools({ connections: 4 });
  const table = new Map(
    Object.entries(routes).map(([name, origin]) => [name, routeFor({ origin, hostHeader: 'preserve' })]),
  );
  const context = { pools, timers: realTimers, originTimeoutMs: 5000, onRequest: () => {} };
  agent.on('stream', (stream) => serveStream(stream, table, context));
  cleanups.push(async () => {
    edge.destroy();
    agent.destroy();
    await pools.destroy();
  });
  return { edge, edgeClosed: () => closed };
}

function request(edge: Session, tunnelName: string, upgrade = false): Promise<Outcome> {
  const head: RequestHead = {
    tunnel: tunnelName,
    method: 'GET',
    path: '/',
    headers: upgrade
      ? ['Host', 'x.localhost', 'Upgrade', 'websocket', 'Connection', 'Upgrade']
      : ['Host', 'x.localhost'],
    remoteAddress: '203.0.113.9',
    requestId: 'r',
  };
  const stream = edge.openStream();
  const outcome = new Promise<Outcome>((resolve) => {
    let got: ResponseHead | null = null;
    stream.on('head', (h) => (got = h));
    stream.on('data', () => {});
    stream.on('end', () => resolve({ head: got, reset: null }));
    stream.on('reset', (err) => resolve({ head: got, reset: err }));
  });
  stream.open(head, { fin: true, upgrade });
  return outcome;
}

function manyHeaders(count: number): string {
  let out = '';
  for (let i = 0; i < count; i++) out += `h${i}: v\r\n`;
  return out;
}

describe('an origin status that is not a 3-digit HTTP status', () => {
  it.each([false, true])(
    'resets with TUN_ERR_HEAD_INVALID and a readable message (upgrade: %s)',
    async (upgrade) => {
      const origin = await rawOrigin('HTTP/1.1 099 Odd\r\nContent-Length: 2\r\n\r\nok');
      const { edge, edgeClosed } = tunnel({ app: origin });
      const result = await request(edge, 'app', upgrade);
      expect(result.head).toBeNull();
      expect(result.reset?.code).toBe('TUN_ERR_HEAD_INVALID');
      expect(result.reset?.message).toMatch(/status 99\b.*not a 3-digit HTTP status/);
      expect(result.reset?.message).not.toMatch(/assert/i);
      expect(edgeClosed()).toBe(false);
    },
  );
});

describe('an origin reason phrase that is not printable ASCII', () => {
  it.each([
    ['a control byte', 'O\x01K'],
    ['UTF-8 bytes', Buffer.from('€', 'utf8').toString('latin1')],
    ['a latin1 byte', 'caf\xe9'],
  ])('is replaced by the standard phrase (%s)', async (_what, phrase) => {
    const origin = await rawOrigin(`HTTP/1.1 200 ${phrase}\r\nContent-Length: 2\r\n\r\nok`);
    const { edge } = tunnel({ app: origin });
    const result = await request(edge, 'app');
    expect(result.reset).toBeNull();
    expect(result.head).toMatchObject({ status: 200, statusText: 'OK' });
  });

  it('is dropped for a status without a standard phrase', async () => {
    const origin = await rawOrigin('HTTP/1.1 299 \x7f\r\nContent-Length: 0\r\n\r\n');
    const { edge } = tunnel({ app: origin });
    const result = await request(edge, 'app');
    expect(result.head).toMatchObject({ status: 299, statusText: '' });
  });

  it('is kept when it is printable ASCII', async () => {
    const origin = await rawOrigin('HTTP/1.1 200 All Good\r\nContent-Length: 0\r\n\r\n');
    const { edge } = tunnel({ app: origin });
    expect((await request(edge, 'app')).head?.statusText).toBe('All Good');
  });
});

describe('an origin response head larger than a tunnel carries', () => {
  it.each([false, true])(
    'resets that stream with TUN_ERR_HEAD_TOO_LARGE; the session serves on (upgrade: %s)',
    async (upgrade) => {
      const huge = await rawOrigin(`HTTP/1.1 200 OK\r\n${manyHeaders(1200)}Content-Length: 2\r\n\r\nok`);
      const fine = await rawOrigin('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      const { edge, edgeClosed } = tunnel({ huge, fine });
      const [bad, good] = await Promise.all([request(edge, 'huge', upgrade), request(edge, 'fine')]);
      expect(bad.head).toBeNull();
      expect(bad.reset?.code).toBe('TUN_ERR_HEAD_TOO_LARGE');
      expect(good).toMatchObject({ head: { status: 200 }, reset: null });
      expect((await request(edge, 'fine')).head?.status).toBe(200);
      expect(edgeClosed()).toBe(false);
    },
  );
});
