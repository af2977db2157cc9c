import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { realTimers } from '@burrow/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestCa } from '../../../../test/support/test-ca.js';
import { FakeTimers } from '../test-support/fake-timers.js';
import { AddressBlocks } from './address-blocks.js';
import { peerAddressOf } from './peer-address.js';
import { ProxyProtocolListener, serverTarget, type ProxyRefusal } from './proxy-protocol-listener.js';
import { proxyV1, proxyV2 } from './test-support/proxy-headers.js';

const open: NetServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** Answers every request with the client address the edge would use. */
function whoAmI(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Connection', 'close');
  res.end(`${peerAddressOf(req.socket)} ${req.url ?? ''}`);
}

async function front(
  target: Server,
  options: { from?: string[]; timeoutMs?: number; timers?: FakeTimers } = {},
): Promise<{ port: number; refusals: ProxyRefusal[]; listener: ProxyProtocolListener }> {
  const refusals: ProxyRefusal[] = [];
  const listener = new ProxyProtocolListener(serverTarget(target), {
    from: AddressBlocks.parse(options.from ?? []),
    headerTimeoutMs: options.timeoutMs ?? 5_000,
    timers: options.timers ?? realTimers,
    onRefused: (refusal) => refusals.push(refusal),
  });
  open.push(listener.server);
  await new Promise<void>((r) => listener.server.listen(0, '127.0.0.1', r));
  return { port: (listener.server.address() as AddressInfo).port, refusals, listener };
}

/** Writes `pieces` one at a time (a pause between), returns everything read until close. */
async function exchange(port: number, pieces: Buffer[], localAddress = '127.0.0.1'): Promise<string> {
  const socket = connect({ port, host: '127.0.0.1', localAddress, noDelay: true });
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const closed = new Promise<void>((r) => socket.on('close', () => r()));
  socket.on('error', () => undefined);
  await new Promise<void>((r) => socket.once('connect', () => r()));
  for (const piece of pieces) {
    socket.write(piece);
    await new Promise((r) => setTimeout(r, 5));
  }
  await closed;
  return Buffer.concat(chunks).toString('latin1');
}

const get = (path: string): Buffer => Buffer.from(`GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`);
const body = (response: string): string => response.slice(response.indexOf('\r\n\r\n') + 4);

describe('ProxyProtocolListener', () => {
  it('reads a v1 header sent with the request in one write and hands the rest to HTTP', async () => {
    const { port } = await front(createServer(whoAmI));
    const header = proxyV1('TCP4 203.0.113.7 192.0.2.1 51000 443');
    expect(body(await exchange(port, [Buffer.concat([header, get('/one')])]))).toBe('203.0.113.7 /one');
  });

  it('reads a v2 header arriving byte by byte, then the request', async () => {
    const { port } = await front(createServer(whoAmI));
    const header = proxyV2({ source: '2001:db8::7', port: 4000, tlvs: Buffer.from([0xe0, 0, 1, 9]) });
    const pieces = [...header].map((b) => Buffer.from([b]));
    const response = await exchange(port, [...pieces, get('/v2')]);
    expect(body(response)).toBe('2001:db8::7 /v2');
  });

  it('takes the socket peer for LOCAL (the balancer checking health)', async () => {
    const { port } = await front(createServer(whoAmI));
    expect(body(await exchange(port, [proxyV2({ command: 'local' }), get('/health')]))).toBe(
      '127.0.0.1 /health',
    );
  });

  it('closes a connection that starts with anything else, and only that one', async () => {
    const { port, refusals } = await front(createServer(whoAmI));
    const socket = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' });
    await new Promise<void>((r) => socket.once('connect', () => r()));
    expect(await exchange(port, [get('/plain')], '127.0.0.3')).toBe('');
    expect(refusals).toEqual([
      {
        reason: 'the connection did not start with a PROXY protocol header',
        remoteAddress: '127.0.0.3',
        count: 1,
      },
    ]);
    // The connection opened before the bad one is still served.
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.end(Buffer.concat([proxyV1('TCP4 198.51.100.1 192.0.2.1 1 2'), get('/still')]));
    await new Promise((r) => socket.on('close', r));
    expect(body(Buffer.concat(chunks).toString())).toBe('198.51.100.1 /still');
  });

  it('closes a connection whose header is still incomplete at the deadline', async () => {
    const timers = new FakeTimers();
    const { port, refusals } = await front(createServer(whoAmI), { timers, timeoutMs: 5_000 });
    const result = exchange(port, [proxyV1('TCP4 1.2.3.4 5.6.7.8 1 2').subarray(0, 10)]);
    await new Promise((r) => setTimeout(r, 50));
    timers.advance(4_999);
    await new Promise((r) => setTimeout(r, 20));
    expect(refusals).toHaveLength(0);
    timers.advance(1);
    expect(await result).toBe('');
    expect(refusals[0]!.reason).toBe('no complete PROXY protocol header within 5000 ms');
  });

  it('closes a connection whose v1 line runs past 107 bytes', async () => {
    const { port, refusals } = await front(createServer(whoAmI));
    expect(await exchange(port, [Buffer.from(`PROXY TCP4 ${'1'.repeat(150)}`)])).toBe('');
    expect(refusals[0]!.reason).toMatch(/longer than 107 bytes/);
  });

  it('with a from list: peers in it must send a header, others are served as they are', async () => {
    const { port } = await front(createServer(whoAmI), { from: ['127.0.0.2'] });
    expect(body(await exchange(port, [get('/direct')], '127.0.0.3'))).toBe('127.0.0.3 /direct');
    expect(await exchange(port, [get('/direct')], '127.0.0.2')).toBe('');
    const proxied = await exchange(
      port,
      [proxyV1('TCP4 203.0.113.9 192.0.2.1 1 2'), get('/lb')],
      '127.0.0.2',
    );
    expect(body(proxied)).toBe('203.0.113.9 /lb');
  });

  it("keeps the target's connection tracking: headersTimeout still answers a slow head with 408", async () => {
    const slow = createServer(
      { headersTimeout: 300, requestTimeout: 300, connectionsCheckingInterval: 50 },
      whoAmI,
    );
    const { port } = await front(slow);
    const started = Date.now();
    const answer = await exchange(port, [
      proxyV1('TCP4 1.2.3.4 5.6.7.8 1 2'),
      Buffer.from('GET / HTTP/1.1\r\n'),
    ]);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('puts the same reader in front of a TLS server: the address reaches the TLSSocket', async () => {
    const leaf = await (await createTestCa()).issue({ names: ['localhost'] });
    const https = createHttpsServer({ key: leaf.keyPem, cert: leaf.certPem }, whoAmI);
    const { port } = await front(https);
    const raw: Socket = connect({ port, host: '127.0.0.1' });
    raw.write(proxyV2({ source: '192.0.2.44', port: 1 }));
    const tls = tlsConnect({ socket: raw, rejectUnauthorized: false, servername: 'localhost' });
    tls.end(get('/tls'));
    const chunks: Buffer[] = [];
    tls.on('data', (c: Buffer) => chunks.push(c));
    await new Promise((r) => tls.on('close', r));
    expect(body(Buffer.concat(chunks).toString())).toBe('192.0.2.44 /tls');
  });
});
