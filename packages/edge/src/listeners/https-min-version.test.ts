/**
 * TLS 1.2 is the floor even when Node's own default is lowered (`--tls-min-v1.0`): the
 * certificate book's contexts, which the listener swaps in, carry the floor themselves.
 */
import { createServer } from 'node:http';
import tls, { connect as tlsConnect } from 'node:tls';
import { realTimers } from '@burrow/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateBook } from '../certs/certificate-book.js';
import { Http2Viewers } from './http2-viewers.js';
import { HttpsListener } from './https-listener.js';
import { makeTestCertificates, type TestCertificates } from './test-support/test-certificates.js';

let certs: TestCertificates;
let listener: HttpsListener;
const nodeDefault = tls.DEFAULT_MIN_VERSION;

beforeAll(async () => {
  tls.DEFAULT_MIN_VERSION = 'TLSv1'; // what --tls-min-v1.0 does
  certs = await makeTestCertificates(['burrow.test', '*.burrow.test']);
  const book = new CertificateBook({ defaultHost: 'burrow.test' });
  book.install(certs, 'file');
  const http2 = new Http2Viewers({
    maxStreams: 10,
    maxHeaderBytes: 16_384,
    maxHeaderCount: 100,
    request: (_req, res) => res.end(),
    connect: (_req, res) => res.end(),
    admitConnection: () => true,
    onError: () => {},
  });
  listener = new HttpsListener({
    certificates: { selector: book, onDemandWaitMs: 100, timers: realTimers },
    http1: createServer(),
    http2,
    handshakeMs: 5000,
    handshakesPerIp: 64,
    timers: realTimers,
  });
  await listener.listen(0, '127.0.0.1');
});
afterAll(() => {
  tls.DEFAULT_MIN_VERSION = nodeDefault;
  listener.destroy();
  certs.remove();
});

function tls11(servername: string | undefined): Promise<string> {
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port: listener.port,
      servername,
      ca: certs.caPem,
      checkServerIdentity: () => undefined,
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.1',
      ciphers: 'DEFAULT:@SECLEVEL=0',
    });
    socket.once('secureConnect', () => {
      resolve(`negotiated ${socket.getProtocol() ?? ''}`);
      socket.destroy();
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe('HTTPS listener under a lowered Node TLS default', () => {
  it('answers a TLS 1.1 client with a protocol_version alert, with and without SNI', async () => {
    expect(await tls11(undefined)).toBe('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
    expect(await tls11('app.burrow.test')).toBe('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
  });
});
