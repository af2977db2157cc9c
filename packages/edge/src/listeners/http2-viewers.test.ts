import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect as h2connect, constants, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTimers } from '../test-support/fake-timers.js';
import { HTTP2_HALF_CLOSED_MS, HTTP2_REQUEST_MS, Http2Viewers } from './http2-viewers.js';
import { makeTestCertificates, type TestCertificates } from './test-support/test-certificates.js';

let certs: TestCertificates;
let tls: TlsServer;
let readingTls: TlsServer;
let viewers: Http2Viewers;
let port: number;
/** Reads request bodies and never answers. */
let reading: Http2Viewers;
let readingPort: number;

beforeAll(async () => {
  certs = await makeTestCertificates(['burrow.test']);
  viewers = new Http2Viewers({
    maxStreams: 10,
    maxHeaderBytes: 16_384,
    maxHeaderCount: 100,
    request: () => {}, // never answers: the stream stays in flight
    connect: (_req, res) => res.writeHead(405).end(),
    admitConnection: () => true,
    onError: () => {},
  });
  tls = createTlsServer({ cert: certs.certPem, key: certs.keyPem, ALPNProtocols: ['h2'] }, (socket) =>
    viewers.accept(socket),
  );
  await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
  port = (tls.address() as AddressInfo).port;
  reading = new Http2Viewers({
    maxStreams: 10,
    maxHeaderBytes: 16_384,
    maxHeaderCount: 100,
    requestMs: 300,
    request: (req) => req.resume(),
    connect: (_req, res) => res.writeHead(405).end(),
    admitConnection: () => true,
    onError: () => {},
  });
  readingTls = createTlsServer({ cert: certs.certPem, key: certs.keyPem, ALPNProtocols: ['h2'] }, (socket) =>
    reading.accept(socket),
  );
  await new Promise<void>((resolve) => readingTls.listen(0, '127.0.0.1', resolve));
  readingPort = (readingTls.address() as AddressInfo).port;
});
afterAll(() => {
  viewers.destroy();
  tls.close();
  reading.destroy();
  readingTls.close();
  certs.remove();
});

describe('Http2Viewers.close', () => {
  it('sends GOAWAY, then ends connections whose streams outlive the grace period', async () => {
    const session = h2connect(`https://burrow.test:${port}`, { ca: certs.caPem, host: '127.0.0.1' });
    session.on('error', () => {});
    const goaway = new Promise<void>((resolve) => session.once('goaway', () => resolve()));
    const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
    const stream = session.request({ ':path': '/held' });
    stream.on('error', () => {});
    await new Promise<void>((resolve) => session.once('remoteSettings', () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    viewers.close(300);
    await goaway;
    await Promise.race([
      closed,
      new Promise((_, reject) => setTimeout(() => reject(new Error('still open after 3 s')), 3_000)),
    ]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });
});

describe('Http2Viewers request bound', () => {
  it('resets a stream whose request has not ended within requestMs; the connection goes on', async () => {
    const session = h2connect(`https://burrow.test:${readingPort}`, { ca: certs.caPem, host: '127.0.0.1' });
    session.on('error', () => {});
    try {
      const stream = session.request({ ':method': 'POST', ':path': '/trickle' }, { endStream: false });
      stream.on('error', () => {});
      stream.write('some');
      const started = Date.now();
      const rstCode = await Promise.race([
        new Promise<number | undefined>((resolve) => stream.once('close', () => resolve(stream.rstCode))),
        new Promise((_, reject) => setTimeout(() => reject(new Error('still open after 3 s')), 3_000)),
      ]);
      expect(rstCode).toBe(constants.NGHTTP2_CANCEL);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(session.closed || session.destroyed).toBe(false);
    } finally {
      session.close();
    }
  });
});

/** An Http2Viewers on its own TLS server, closed after `use`. */
async function withViewers(
  options: Partial<ConstructorParameters<typeof Http2Viewers>[0]>,
  use: (port: number) => Promise<void>,
): Promise<void> {
  const own = new Http2Viewers({
    maxStreams: 10,
    maxHeaderBytes: 16_384,
    maxHeaderCount: 100,
    request: (req) => req.resume(),
    connect: (_req, res) => res.writeHead(405).end(),
    admitConnection: () => true,
    onError: () => {},
    ...options,
  });
  const server = createTlsServer(
    { cert: certs.certPem, key: certs.keyPem, ALPNProtocols: ['h2'] },
    (socket) => own.accept(socket),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await use((server.address() as AddressInfo).port);
  } finally {
    own.destroy();
    server.close();
  }
}

describe('Http2Viewers answering before the upload ended', () => {
  it('delivers the whole body and its trailers to a slow reader, then closes the stream', async () => {
    const size = 4 * 1024 * 1024;
    await withViewers(
      {
        request: (req, res) => {
          req.resume();
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          const chunk = Buffer.alloc(1024 * 1024, 120);
          for (let i = 0; i < size / chunk.length; i++) res.write(chunk);
          res.addTrailers({ 'x-checksum': 'abc' });
          res.end();
        },
      },
      async (own) => {
        const session = h2connect(`https://burrow.test:${own}`, { ca: certs.caPem, host: '127.0.0.1' });
        session.on('error', () => {});
        try {
          const stream = session.request(
            { ':method': 'POST', ':path': '/up', te: 'trailers' },
            { endStream: false },
          );
          stream.on('error', () => {});
          stream.write(Buffer.alloc(1000)); // the upload has begun and never ends
          const trailers = new Promise<Record<string, unknown>>((resolve) =>
            stream.once('trailers', resolve),
          );
          stream.pause();
          let got = 0;
          // A slow reader: the response's 'finish' comes long before the client has it all.
          const reader = setInterval(() => {
            for (
              let c = stream.read(65_536) as Buffer | null;
              c !== null;
              c = stream.read(65_536) as Buffer | null
            )
              got += c.length;
          }, 10);
          const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
          await Promise.race([
            closed,
            new Promise((_, reject) => setTimeout(() => reject(new Error('still open after 10 s')), 10_000)),
          ]);
          clearInterval(reader);
          expect(got).toBe(size);
          expect(await Promise.race([trailers, Promise.resolve(undefined)])).toMatchObject({
            'x-checksum': 'abc',
          });
          expect(stream.rstCode).toBe(constants.NGHTTP2_NO_ERROR);
        } finally {
          session.close();
        }
      },
    );
  });

  it('bounds an upload with the injected timers (HTTP2_REQUEST_MS)', async () => {
    const timers = new FakeTimers(0);
    await withViewers({ timers }, async (own) => {
      const session = h2connect(`https://burrow.test:${own}`, { ca: certs.caPem, host: '127.0.0.1' });
      session.on('error', () => {});
      try {
        const stream = session.request({ ':method': 'POST', ':path': '/trickle' }, { endStream: false });
        stream.on('error', () => {});
        stream.write('some');
        await new Promise<void>((resolve) => stream.once('ready', () => resolve()));
        // The edge has the stream once it saw the data; then the bound's time passes at once.
        await new Promise((resolve) => setTimeout(resolve, 200));
        timers.advance(HTTP2_REQUEST_MS - 1);
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(stream.closed).toBe(false);
        timers.advance(1);
        const rstCode = await Promise.race([
          new Promise<number | undefined>((resolve) => stream.once('close', () => resolve(stream.rstCode))),
          new Promise((_, reject) => setTimeout(() => reject(new Error('still open after 3 s')), 3_000)),
        ]);
        expect(rstCode).toBe(constants.NGHTTP2_CANCEL);
      } finally {
        session.close();
      }
    });
  });
});

/** An extended CONNECT for a WebSocket (RFC 8441) on a fresh session to the viewers, once its SETTINGS arrived. */
async function openWebSocketStream(
  port: number,
): Promise<{ session: ClientHttp2Session; stream: ClientHttp2Stream }> {
  const session = h2connect(`https://burrow.test:${port}`, { ca: certs.caPem, host: '127.0.0.1' });
  session.on('error', () => {});
  await new Promise<void>((resolve) => session.once('remoteSettings', () => resolve()));
  const stream = session.request(
    {
      ':method': 'CONNECT',
      ':protocol': 'websocket',
      ':scheme': 'https',
      ':path': '/ws',
      ':authority': 'burrow.test',
    },
    { endStream: false },
  );
  stream.on('error', () => {});
  return { session, stream };
}

describe('Http2Viewers extended CONNECT half-closed by the edge', () => {
  it('closes the stream with NO_ERROR once the viewer has not ended its side within HTTP2_HALF_CLOSED_MS', async () => {
    const timers = new FakeTimers(0);
    // As the ingress pipes a WebSocket whose origin went away at once: the viewer's bytes
    // read (Node closes a stream whose unread request outlives its response), the 200, the end.
    const connect = (req: IncomingMessage, res: ServerResponse): void => {
      req.resume();
      res.writeHead(200).end('bye');
    };
    await withViewers({ timers, connect }, async (own) => {
      const { session, stream } = await openWebSocketStream(own);
      try {
        stream.resume();
        await new Promise<void>((resolve) => stream.once('end', () => resolve()));
        const closed = new Promise<number | undefined>((resolve) =>
          stream.once('close', () => resolve(stream.rstCode)),
        );
        await new Promise((resolve) => setTimeout(resolve, 100));
        timers.advance(HTTP2_HALF_CLOSED_MS - 1);
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(stream.closed).toBe(false);
        timers.advance(1);
        const rstCode = await Promise.race([
          closed,
          new Promise((_, reject) => setTimeout(() => reject(new Error('still open after 3 s')), 3_000)),
        ]);
        expect(rstCode).toBe(constants.NGHTTP2_NO_ERROR);
        expect(session.closed || session.destroyed).toBe(false);
      } finally {
        session.close();
      }
    });
  });

  it('never closes a WebSocket stream both sides keep open, whatever time passes (no upload bound, no half-close bound)', async () => {
    const timers = new FakeTimers(0);
    const connect = (req: IncomingMessage, res: ServerResponse): void => {
      req.resume();
      res.writeHead(200);
      res.write('open');
    };
    await withViewers({ timers, connect }, async (own) => {
      const { session, stream } = await openWebSocketStream(own);
      try {
        await new Promise<void>((resolve) => stream.once('data', () => resolve()));
        timers.advance(HTTP2_REQUEST_MS + HTTP2_HALF_CLOSED_MS * 10);
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(stream.closed).toBe(false);
      } finally {
        session.close();
      }
    });
  });
});
