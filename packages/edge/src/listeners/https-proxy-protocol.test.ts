/**
 * The HTTPS listener behind a PROXY protocol reader: the header is read on the raw socket
 * before TLS, and its source is the client address for the TLS socket, HTTP/1.1 and HTTP/2
 * requests on it, and the per-address handshake bound.
 */

import { connect as h2connect } from 'node:http2';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { realTimers } from '@burrow/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AddressBlocks } from './address-blocks.js';
import type { HttpsListener } from './https-listener.js';
import type { ProxyRefusal } from './proxy-protocol-listener.js';
import { closeHttpsRigs, listenHttps } from './test-support/https-rig.js';
import { proxyV1, proxyV2 } from './test-support/proxy-headers.js';
import { makeTestCertificates, type TestCertificates } from './test-support/test-certificates.js';

let certs: TestCertificates;
beforeAll(async () => {
  certs = await makeTestCertificates(['burrow.test', '*.burrow.test']);
});
afterAll(() => certs.remove());
afterEach(closeHttpsRigs);

async function listenBehindProxy(
  options: { handshakesPerIp?: number } = {},
): Promise<{ listener: HttpsListener; refusals: ProxyRefusal[] }> {
  const refusals: ProxyRefusal[] = [];
  const listener = await listenHttps(certs, {
    handshakesPerIp: options.handshakesPerIp,
    proxy: {
      from: AddressBlocks.parse([]),
      headerTimeoutMs: 5000,
      timers: realTimers,
      noDelay: true,
      onRefused: (refusal) => refusals.push(refusal),
    },
  });
  return { listener, refusals };
}

/** A raw connection from 127.0.0.1 that has sent `header` (as a balancer would). */
function rawWith(port: number, header: Buffer): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const raw = netConnect({ host: '127.0.0.1', port, noDelay: true }, () => {
      raw.write(header);
      resolve(raw);
    });
    raw.once('error', reject);
  });
}

/** TLS over a raw connection that has sent a PROXY header naming `source`. */
async function tlsVia(port: number, source: string, alpn: string): Promise<TLSSocket> {
  const raw = await rawWith(port, proxyV2({ source, port: 40_000 }));
  return new Promise((resolve, reject) => {
    const tls = tlsConnect({
      socket: raw,
      ca: certs.caPem,
      servername: 'app.burrow.test',
      ALPNProtocols: [alpn],
    });
    tls.once('secureConnect', () => resolve(tls));
    tls.once('error', reject);
  });
}

function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.on('error', () => undefined);
    socket.resume();
  });
}

/** One HTTP/1.1 request on an established TLS socket; the response text once the server closes. */
function http1Get(tls: TLSSocket, path: string): Promise<string> {
  tls.write(`GET ${path} HTTP/1.1\r\nHost: app.burrow.test\r\nConnection: close\r\n\r\n`);
  return new Promise((resolve) => {
    let got = '';
    tls.on('data', (chunk: Buffer) => (got += chunk.toString()));
    tls.on('close', () => resolve(got));
  });
}

describe('HttpsListener behind a PROXY protocol reader', () => {
  it('reads a v2 header before the ClientHello; HTTP/1.1 over TLS sees the PROXY source', async () => {
    const { listener } = await listenBehindProxy();
    const tls = await tlsVia(listener.port, '192.0.2.10', 'http/1.1');
    expect(tls.alpnProtocol).toBe('http/1.1');
    const text = await http1Get(tls, '/one');
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    expect(text.toLowerCase()).toContain('x-peer: 192.0.2.10\r\n');
    expect(text).toContain('1.1 tls=true /one');
  });

  it('HTTP/2 streams on that connection see the PROXY source', async () => {
    const { listener } = await listenBehindProxy();
    const tls = await tlsVia(listener.port, '2001:db8::9', 'h2');
    const client = h2connect(`https://app.burrow.test:${listener.port}`, { createConnection: () => tls });
    client.on('error', () => {});
    try {
      const peers = await Promise.all(
        ['/a', '/b'].map(
          (path) =>
            new Promise<string>((resolve, reject) => {
              const stream = client.request({ ':path': path });
              stream.on('response', (headers) => resolve(String(headers['x-peer'])));
              stream.resume();
              stream.on('error', reject);
            }),
        ),
      );
      expect(peers).toEqual(['2001:db8::9', '2001:db8::9']);
    } finally {
      client.close();
    }
  });

  it('a malformed PROXY header closes only that connection', async () => {
    const { listener, refusals } = await listenBehindProxy();
    const before = await tlsVia(listener.port, '192.0.2.11', 'http/1.1');
    const bad = await rawWith(listener.port, proxyV1('TCP4 999.1.1.1 127.0.0.1 1 2'));
    expect(await closedWithin(bad, 3000)).toBe(true);
    expect(refusals).toHaveLength(1);
    expect(refusals[0]!.remoteAddress).toBe('127.0.0.1');
    // The connection opened before it, and a new one, are served.
    expect(await http1Get(before, '/before')).toContain('x-peer: 192.0.2.11');
    const after = await tlsVia(listener.port, '192.0.2.12', 'http/1.1');
    expect(await http1Get(after, '/after')).toContain('x-peer: 192.0.2.12');
  });

  it('the per-address handshake bound counts the PROXY source, not the balancer', async () => {
    const { listener } = await listenBehindProxy({ handshakesPerIp: 2 });
    // Two handshakes in progress for 198.51.100.1, all from the one balancer address.
    const header = proxyV2({ source: '198.51.100.1' });
    const held = await Promise.all([1, 2].map(() => rawWith(listener.port, header)));
    const extra = await rawWith(listener.port, header);
    expect(await closedWithin(extra, 2000)).toBe(true);
    expect(held.every((s) => !s.destroyed)).toBe(true);
    // Another client behind the same balancer still gets its handshake.
    const other = await tlsVia(listener.port, '198.51.100.2', 'http/1.1');
    expect(await http1Get(other, '/x')).toContain('x-peer: 198.51.100.2');
    for (const s of held) s.destroy();
  });
});
