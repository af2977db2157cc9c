import { connect as h2connect } from 'node:http2';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HttpsListener } from './https-listener.js';
import { closeHttpsRigs, listenHttps, type HttpsRigOptions } from './test-support/https-rig.js';
import { makeTestCertificates, type TestCertificates } from './test-support/test-certificates.js';

let certs: TestCertificates;
let other: TestCertificates;
beforeAll(async () => {
  certs = await makeTestCertificates(['burrow.test', '*.burrow.test']);
  other = await makeTestCertificates(['demand.example']);
});
afterAll(() => {
  certs.remove();
  other.remove();
});

afterEach(closeHttpsRigs);

const listen = (options: HttpsRigOptions = {}): Promise<HttpsListener> => listenHttps(certs, options);

/** Completes a TLS handshake; resolves with the socket, or rejects with the client's error. */
function handshake(
  port: number,
  options: {
    servername?: string;
    ALPNProtocols?: string[];
    minVersion?: 'TLSv1';
    maxVersion?: 'TLSv1.1';
    ciphers?: string;
    localAddress?: string;
    checkServerIdentity?: () => undefined;
  } = {},
): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: [certs.caPem, other.caPem], ...options });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

function rawConnect(port: number, localAddress: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port, localAddress }, () => resolve(socket));
    socket.once('error', reject);
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
    socket.resume();
  });
}

describe('HttpsListener', () => {
  it('serves HTTP/1.1 over TLS through the HTTP/1.1 server, with the certificate for the SNI name', async () => {
    const listener = await listen();
    const socket = await handshake(listener.port, {
      servername: 'app.burrow.test',
      ALPNProtocols: ['http/1.1'],
    });
    expect(socket.alpnProtocol).toBe('http/1.1');
    expect(socket.getPeerCertificate().subjectaltname).toContain('DNS:*.burrow.test');
    socket.write('GET /one HTTP/1.1\r\nHost: app.burrow.test\r\nConnection: close\r\n\r\n');
    const text = await new Promise<string>((resolve) => {
      let got = '';
      socket.on('data', (chunk: Buffer) => (got += chunk.toString()));
      socket.on('end', () => resolve(got));
    });
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    expect(text).toContain('1.1 tls=true /one');
  });

  it('negotiates h2 by ALPN and serves each stream through the HTTP/2 server', async () => {
    const listener = await listen();
    const client = h2connect(`https://app.burrow.test:${listener.port}`, {
      createConnection: () =>
        tlsConnect({
          host: '127.0.0.1',
          port: listener.port,
          ca: certs.caPem,
          servername: 'app.burrow.test',
          ALPNProtocols: ['h2'],
        }),
    });
    client.on('error', () => {});
    try {
      const bodies = await Promise.all(
        ['/a', '/b', '/c'].map(
          (path) =>
            new Promise<string>((resolve, reject) => {
              const stream = client.request({ ':path': path });
              let got = '';
              stream.on('data', (chunk: Buffer) => (got += chunk.toString()));
              stream.on('end', () => resolve(got));
              stream.on('error', reject);
            }),
        ),
      );
      expect(bodies).toEqual(['2.0 tls=true /a', '2.0 tls=true /b', '2.0 tls=true /c']);
    } finally {
      client.close();
    }
  });

  it('refuses a client that offers only TLS 1.0/1.1 with a protocol_version alert', async () => {
    const listener = await listen();
    const err = await handshake(listener.port, {
      servername: 'app.burrow.test',
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.1',
      ciphers: 'DEFAULT@SECLEVEL=0',
    }).then(
      () => null,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(err?.code).toBe('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
  });

  it('cuts a connection that never finishes its handshake after the handshake timeout', async () => {
    const listener = await listen({ handshakeMs: 300 });
    const silent = await rawConnect(listener.port, '127.0.0.2');
    const started = Date.now();
    expect(await closedWithin(silent, 3000)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('bounds handshakes in progress per address; other addresses and finished ones do not count', async () => {
    const listener = await listen({ handshakesPerIp: 3 });
    const held = await Promise.all([1, 2, 3].map(() => rawConnect(listener.port, '127.0.0.2')));
    const extra = await rawConnect(listener.port, '127.0.0.2');
    expect(await closedWithin(extra, 2000)).toBe(true);
    // Still in their handshakes: not cut.
    expect(held.every((s) => !s.destroyed)).toBe(true);
    // Another address is counted apart.
    const elsewhere = await handshake(listener.port, { servername: 'a.burrow.test' });
    elsewhere.destroy();
    // Closing one held connection frees its slot.
    held[0]!.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const again = await rawConnect(listener.port, '127.0.0.2');
    expect(await closedWithin(again, 300)).toBe(false);
    for (const s of [...held, again]) s.destroy();
  });

  it('frees the handshake slot once the handshake is done, while the connection stays open', async () => {
    const listener = await listen({ handshakesPerIp: 1 });
    const from = { localAddress: '127.0.0.2', ALPNProtocols: ['http/1.1'] };
    const established = await handshake(listener.port, { servername: 'a.burrow.test', ...from });
    // One answer on it: the server has finished its side of the handshake too.
    established.write('GET / HTTP/1.1\r\nHost: a.burrow.test\r\n\r\n');
    await new Promise((resolve) => established.once('data', resolve));
    const next = await handshake(listener.port, { servername: 'b.burrow.test', ...from });
    expect(established.destroyed).toBe(false);
    established.destroy();
    next.destroy();
  });

  it('gives a client without SNI the default certificate, or an alert when there is none', async () => {
    const context = createSecureContext({ cert: certs.certPem, key: certs.keyPem });
    let fallback: SecureContext | undefined = context;
    const listener = await listen({
      selector: { select: (name) => (name === undefined ? fallback : context), covers: () => context },
    });
    // No SNI: the client cannot match 127.0.0.1 against the names, only the chain is checked.
    const noName = { checkServerIdentity: () => undefined };
    const socket = await handshake(listener.port, noName).catch(() => null);
    expect(socket?.getPeerCertificate().subjectaltname).toContain('DNS:*.burrow.test');
    socket?.destroy();
    fallback = undefined;
    const err = await handshake(listener.port, noName).then(
      () => null,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(err?.code).toBe('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE');
  });

  it('answers a name with no certificate and no default with an alert', async () => {
    const context = createSecureContext({ cert: certs.certPem, key: certs.keyPem });
    const listener = await listen({
      selector: {
        select: (name) => (name?.endsWith('.burrow.test') ? context : undefined),
        covers: (name) => (name.endsWith('.burrow.test') ? context : undefined),
      },
    });
    const err = await handshake(listener.port, { servername: 'unknown.example' }).then(
      () => null,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(err?.code).toBe('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE');
    const ok = await handshake(listener.port, { servername: 'x.burrow.test' });
    ok.destroy();
  });

  it('asks the on-demand source only on a miss, and serves what it obtains', async () => {
    const fallback = createSecureContext({ cert: certs.certPem, key: certs.keyPem });
    const demanded = createSecureContext({ cert: other.certPem, key: other.keyPem });
    const asked: string[] = [];
    const listener = await listen({
      selector: {
        select: (name) => (name === 'exact.burrow.test' ? createExact() : fallback),
        covers: (name) => (name === 'exact.burrow.test' ? createExact() : undefined),
      },
      onDemand: {
        obtain: (name) => {
          asked.push(name);
          return Promise.resolve(name === 'demand.example' ? demanded : undefined);
        },
      },
    });
    function createExact(): SecureContext {
      return demanded;
    }
    const got = await handshake(listener.port, { servername: 'demand.example' });
    expect(got.getPeerCertificate().subjectaltname).toBe('DNS:demand.example');
    got.destroy();
    const exact = await handshake(listener.port, { servername: 'exact.burrow.test' }).catch(() => null);
    exact?.destroy();
    const scanner = await handshake(listener.port, { servername: 'random.burrow.test' });
    expect(scanner.getPeerCertificate().subjectaltname).toContain('DNS:*.burrow.test');
    scanner.destroy();
    expect(asked).toEqual(['demand.example', 'random.burrow.test']);
  });

  it('serves the default certificate when the on-demand source is slower than its deadline', async () => {
    const listener = await listen({
      onDemandWaitMs: 200,
      onDemand: { obtain: () => new Promise(() => {}) },
      selector: (() => {
        const context = createSecureContext({ cert: certs.certPem, key: certs.keyPem });
        // Only the default: slow.burrow.test is not really covered, so on-demand is asked.
        return { select: () => context, covers: () => undefined };
      })(),
    });
    const started = Date.now();
    const socket = await handshake(listener.port, { servername: 'slow.burrow.test' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    socket.destroy();
  });
});
