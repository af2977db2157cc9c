/**
 * The HTTPS listener: TCP in, TLS terminated here (certificate by SNI, TLS 1.2 minimum,
 * ALPN `h2` and `http/1.1`), then each connection handed to the server that speaks its
 * protocol: HTTP/1.1 to the plain listener's `node:http` server (so the same parser limits,
 * timeouts, ingress and upgrade handling apply; `req.socket.encrypted` tells them apart),
 * HTTP/2 to the `Http2Viewers` server. Handshakes are bounded: an absolute deadline each
 * (a client that connects and never finishes is cut) and a number in progress per address.
 *
 * Certificates: by SNI from the selector (see sni.ts); a client sending no SNI (an IP
 * address URL) gets the default certificate, or a handshake_failure alert without one.
 *
 * PROXY protocol: with `proxy`, a `ProxyProtocolListener` is what listens; it reads the
 * header off the raw socket before any TLS byte and then hands the socket to `accept`. The
 * header's source is then the client address (`peerAddressOf`) for the handshake bound, the
 * TLS socket and every request on it, so a balancer does not use up its clients' slots.
 */

import { createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import type { Server as Http1Server } from 'node:http';
import {
  createSecureContext,
  createServer as createTlsServer,
  DEFAULT_MIN_VERSION,
  type SecureContext,
  type Server as TlsServer,
  type TLSSocket,
} from 'node:tls';
import type { Timers } from '@burrow/protocol';
import { ConnectionCounter } from '../ingress/connection-limit.js';
import { viewerKey } from '../ingress/viewer-key.js';
import type { Http2Viewers } from './http2-viewers.js';
import { peerAddressOf } from './peer-address.js';
import { ProxyProtocolListener, type ProxyProtocolOptions } from './proxy-protocol-listener.js';
import { sniCallback, type CertificateChoice } from './sni.js';

export interface HttpsListenerOptions {
  certificates: CertificateChoice;
  /** Where HTTP/1.1 connections go once TLS is up: the plain listener's server. */
  http1: Http1Server;
  http2: Http2Viewers;
  /** `timeouts.tlsHandshakeMs`. */
  handshakeMs: number;
  /** `limits.tlsHandshakesPerIp`. */
  handshakesPerIp: number;
  timers: Timers;
  /** `proxy.protocol`: read a PROXY header on each connection before its handshake. */
  proxy?: ProxyProtocolOptions | null;
  /** Failed handshakes (old protocol versions, no certificate, timeouts), for debug logs. */
  onHandshakeError?(err: Error, remoteAddress: string | undefined): void;
}

const ALPN = ['h2', 'http/1.1'];

/** TLS 1.2 unless Node was started with an even newer minimum. */
const MIN_VERSION = DEFAULT_MIN_VERSION === 'TLSv1.3' ? 'TLSv1.3' : 'TLSv1.2';

/** What one raw connection holds until its handshake ends. */
interface Pending {
  deadline: unknown;
  release: () => void;
}

export class HttpsListener {
  private readonly server: NetServer;
  /** Does the handshakes; never listens itself (connections come through `accept`). */
  private readonly tls: TlsServer;
  private readonly handshakes: ConnectionCounter;
  private readonly pending = new Map<Socket, Pending>();
  /** Used when nothing covers the name and there is no default: the client gets an alert. */
  private readonly none = createSecureContext({ minVersion: MIN_VERSION });

  constructor(private readonly options: HttpsListenerOptions) {
    this.handshakes = new ConnectionCounter(options.handshakesPerIp);
    const none = this.none;
    this.tls = createTlsServer({
      minVersion: MIN_VERSION,
      ALPNProtocols: ALPN,
      SNICallback: sniCallback(options.certificates, none),
      // Our own absolute deadline cuts first; this idle timer is only a backstop.
      handshakeTimeout: options.handshakeMs * 2,
    });
    this.tls.on('secureConnection', (tls: TLSSocket) => this.secured(tls));
    this.tls.on('tlsClientError', (err: Error, tls: TLSSocket) => {
      options.onHandshakeError?.(err, peerAddressOf(tls));
    });
    this.server =
      options.proxy == null
        ? createServer({ noDelay: true }, (socket) => this.accept(socket))
        : new ProxyProtocolListener(this, options.proxy).server;
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  get port(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? 0;
  }

  /** Starts the TLS handshake on a raw connection (from this listener or a PROXY reader). */
  accept(raw: Socket): void {
    // The PROXY source when a reader took a header off this socket, else its peer.
    const address = peerAddressOf(raw);
    const key = viewerKey(address);
    if (!this.handshakes.acquire(key)) {
      // Nothing is readable before the handshake; refusing costs no certificate work.
      raw.destroy();
      return;
    }
    let counted = true;
    const state: Pending = {
      // Absolute, unlike tls.Server's handshakeTimeout (an idle timer a dribbling client resets).
      deadline: this.options.timers.setTimeout(() => {
        this.options.onHandshakeError?.(new Error('TLS handshake timed out'), address);
        raw.destroy();
      }, this.options.handshakeMs),
      release: () => {
        if (!counted) return;
        counted = false;
        this.options.timers.clearTimeout(state.deadline);
        this.pending.delete(raw);
        this.handshakes.release(key);
      },
    };
    this.pending.set(raw, state);
    raw.once('close', state.release);
    raw.on('error', () => raw.destroy());
    // Node starts every handshake on the server's own context and consults SNICallback only
    // when the client names a host; without a name the handshake stays on that context. So
    // it is set to the current default just before Node wraps the socket (synchronously, in
    // this emit). `_sharedCreds` is Node's field for it (the no-SNI test fails if it changes).
    (this.tls as TlsServer & { _sharedCreds: SecureContext })._sharedCreds =
      this.options.certificates.selector.select(undefined) ?? this.none;
    this.tls.emit('connection', raw);
  }

  private secured(tls: TLSSocket): void {
    // Node keeps the wrapped socket as `_parent`; the handshake test fails if that changes.
    const raw = (tls as TLSSocket & { _parent?: Socket })._parent;
    if (raw !== undefined) this.pending.get(raw)?.release();
    if (tls.alpnProtocol === 'h2') this.options.http2.accept(tls);
    else this.options.http1.emit('connection', tls);
  }

  /** Stops accepting; connections already handed over close with the servers they went to. */
  close(): Promise<void> {
    for (const raw of this.pending.keys()) raw.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  destroy(): void {
    for (const raw of this.pending.keys()) raw.destroy();
    this.server.close();
  }
}
