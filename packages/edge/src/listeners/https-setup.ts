/**
 * Builds the HTTPS side of the edge from its config: the `HttpsListener` in front, HTTP/1.1
 * handed to the plain listener's server, HTTP/2 to `Http2Viewers`, both into the same
 * ingress. Null when `httpsListen` is unset.
 */

import type { Server } from 'node:http';
import type { Timers } from '@burrow/protocol';
import type { CertificateSelector, OnDemandCertificates } from '../certs/certificates.js';
import type { EdgeConfig } from '../config/index.js';
import type { Ingress } from '../ingress/ingress.js';
import type { Logger } from '../logger.js';
import { Http2Viewers } from './http2-viewers.js';
import { HttpsListener } from './https-listener.js';
import { proxyProtocolOptions } from './public-listener.js';

/** Where the HTTPS listener takes certificates from. */
export interface ListenerCertificates {
  selector: CertificateSelector;
  onDemand?: OnDemandCertificates;
}

export interface HttpsSide {
  listener: HttpsListener;
  http2: Http2Viewers;
}

export function createHttpsSide(
  config: EdgeConfig,
  deps: {
    http1: Server;
    ingress: Ingress;
    certificates: ListenerCertificates;
    timers: Timers;
    log: Logger;
  },
): HttpsSide | null {
  if (config.httpsListen === null) return null;
  const { certificates, timers, log, ingress } = deps;
  // ACME sources fill the book after the start: an empty one is a warning, not an error.
  if (certificates.selector.select(undefined) === undefined)
    log.warn(
      { httpsListen: config.httpsListen },
      'the HTTPS listener has no default certificate yet: a client asking for a name no certificate covers gets a TLS alert (give it --tls-cert/--tls-key, --tls self-signed, or ACME)',
    );
  const { limits, timeouts } = config;
  const http2 = new Http2Viewers({
    maxStreams: limits.http2MaxStreams,
    maxHeaderBytes: limits.maxHeaderBytes,
    maxHeaderCount: limits.maxHeaderCount,
    request: ingress.request,
    connect: ingress.connect,
    admitConnection: ingress.admitConnection,
    onError: (err) => log.debug({ err }, 'HTTP/2 session error'),
  });
  const listener = new HttpsListener({
    // An on-demand order may take half the handshake's time; then the default certificate.
    certificates: { ...certificates, onDemandWaitMs: Math.floor(timeouts.tlsHandshakeMs / 2), timers },
    http1: deps.http1,
    http2,
    handshakeMs: timeouts.tlsHandshakeMs,
    handshakesPerIp: limits.tlsHandshakesPerIp,
    timers,
    // The plain listener's reader and settings: balancers send a header on both ports.
    proxy: proxyProtocolOptions(config.proxy, 'https', { timers, log }),
    onHandshakeError: (err, address) => log.debug({ err: err.message, address }, 'TLS handshake failed'),
  });
  return { listener, http2 };
}
