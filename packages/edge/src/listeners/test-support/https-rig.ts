/**
 * An `HttpsListener` on loopback for the listener's tests: HTTP/1.1 and HTTP/2 answered by
 * one handler (protocol, whether it was TLS, the client address the edge would use, the
 * path), certificates from `makeTestCertificates`, optionally behind a PROXY reader.
 * `closeHttpsRigs` ends every listener started since the last call. Test-only.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSecureContext, type TLSSocket } from 'node:tls';
import { realTimers, type Timers } from '@burrow/protocol';
import type { CertificateSelector, OnDemandCertificates } from '../../certs/certificates.js';
import { Http2Viewers } from '../http2-viewers.js';
import { HttpsListener } from '../https-listener.js';
import { peerAddressOf } from '../peer-address.js';
import type { ProxyProtocolOptions } from '../proxy-protocol-listener.js';
import type { TestCertificates } from './test-certificates.js';

/** `<http version> tls=<bool> <path>`, and the client address in `x-peer`. */
export function answer(req: IncomingMessage, res: ServerResponse): void {
  const tls = (req.socket as Partial<TLSSocket>).encrypted === true;
  res
    .writeHead(200, { 'content-type': 'text/plain', 'x-peer': peerAddressOf(req.socket) })
    .end(`${req.httpVersion} tls=${tls} ${req.url ?? ''}`);
}

export interface HttpsRigOptions {
  selector?: CertificateSelector;
  onDemand?: OnDemandCertificates;
  handshakeMs?: number;
  handshakesPerIp?: number;
  onDemandWaitMs?: number;
  proxy?: ProxyProtocolOptions;
  timers?: Timers;
}

const open: { listener: HttpsListener; http1: Server; http2: Http2Viewers }[] = [];

export async function listenHttps(
  certs: TestCertificates,
  options: HttpsRigOptions = {},
): Promise<HttpsListener> {
  const context = createSecureContext({ cert: certs.certPem, key: certs.keyPem });
  const http1 = createServer(answer);
  const http2 = new Http2Viewers({
    maxStreams: 100,
    maxHeaderBytes: 16_384,
    maxHeaderCount: 100,
    request: answer,
    connect: (_req, res) => res.writeHead(405).end(),
    admitConnection: () => true,
    onError: () => {},
  });
  const timers = options.timers ?? realTimers;
  const listener = new HttpsListener({
    certificates: {
      selector: options.selector ?? { select: () => context, covers: () => context },
      onDemand: options.onDemand,
      onDemandWaitMs: options.onDemandWaitMs ?? 1000,
      timers,
    },
    http1,
    http2,
    handshakeMs: options.handshakeMs ?? 5000,
    handshakesPerIp: options.handshakesPerIp ?? 64,
    timers,
    proxy: options.proxy,
  });
  open.push({ listener, http1, http2 });
  await listener.listen(0, '127.0.0.1');
  return listener;
}

export function closeHttpsRigs(): void {
  for (const { listener, http1, http2 } of open.splice(0)) {
    http2.destroy();
    listener.destroy();
    http1.closeAllConnections();
    http1.close();
  }
}
