/**
 * `proxy.protocol`: a TCP listener that reads the PROXY protocol header (v1 or v2) on the
 * raw socket, before any HTTP or TLS byte, then hands the socket to a `ConnectionTarget`
 * (a `node:http`/`https`/`tls` server through `serverTarget`, or the `HttpsListener`), the
 * bytes after the header put back with `unshift` (an http.Server re-reads them through its
 * 'data' listener, a TLSSocket reads the socket's buffer when it wraps it). Only peers in `from` (every peer when it is empty)
 * must send a header: a forged one from elsewhere is never read (caddy#5915). A missing,
 * malformed, oversized or late header closes that connection and nothing else.
 */

import { createServer, type Server, type Socket } from 'node:net';
import type { Timers } from '@burrow/protocol';
import type { AddressBlocks } from './address-blocks.js';
import { rememberPeerAddress } from './peer-address.js';
import { parseProxyHeader } from './proxy-header.js';

export interface ProxyRefusal {
  readonly reason: string;
  /** The socket's own peer (the balancer, or whoever connected directly). */
  readonly remoteAddress: string;
  /** Connections refused so far by this listener, this one included. */
  readonly count: number;
}

export interface ProxyProtocolOptions {
  /** Peers that must send a header; empty means every peer must. Others are handed over as they are. */
  readonly from: AddressBlocks;
  /** `proxy.headerTimeoutMs`: the whole header must arrive within this. */
  readonly headerTimeoutMs: number;
  readonly timers: Timers;
  /** Set on the accepted sockets (the `noDelay` an http.Server would have set itself). */
  readonly noDelay?: boolean;
  onRefused?(refusal: ProxyRefusal): void;
}

/** Where a connection goes once its header is read (or at once, for a peer not in `from`). */
export interface ConnectionTarget {
  accept(socket: Socket): void;
  /** Called when the reader starts listening, for a target that never listens itself. */
  listening?(): void;
}

/** Anything with the 'connection' event of a net.Server: http, https, tls, http2 servers. */
interface ConnectionServer {
  emit(event: 'connection', socket: Socket): boolean;
  emit(event: 'listening'): boolean;
}

/** A server as a target: sockets through its 'connection' event. */
export function serverTarget(server: ConnectionServer): ConnectionTarget {
  return {
    accept: (socket) => server.emit('connection', socket),
    // An http(s).Server starts tracking connections (headersTimeout, requestTimeout,
    // closeAllConnections) on its own 'listening', which a server that never listens lacks.
    listening: () => server.emit('listening'),
  };
}

export class ProxyProtocolListener {
  /** Listen on this one; the target server never listens itself. */
  readonly server: Server;
  #refused = 0;
  readonly #target: ConnectionTarget;
  readonly #options: ProxyProtocolOptions;

  constructor(target: ConnectionTarget, options: ProxyProtocolOptions) {
    this.#target = target;
    this.#options = options;
    this.server = createServer({ noDelay: options.noDelay ?? false }, (socket) => this.#accept(socket));
    this.server.on('listening', () => target.listening?.());
  }

  /** Connections closed for a missing, malformed or late header. */
  get refused(): number {
    return this.#refused;
  }

  #accept(socket: Socket): void {
    const peer = socket.remoteAddress ?? '';
    const { from, headerTimeoutMs, timers } = this.#options;
    if (from.size > 0 && !from.contains(peer)) {
      this.#target.accept(socket);
      return;
    }
    let received: Buffer = Buffer.alloc(0);
    const done = (): void => {
      timers.clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const refuse = (reason: string): void => {
      done();
      socket.destroy();
      this.#refused++;
      this.#options.onRefused?.({ reason, remoteAddress: peer, count: this.#refused });
    };
    // Paused mode ('readable' + read()): once this listener is off, an http.Server's 'data'
    // listener resumes the socket and a TLSSocket drains its buffer; no byte is lost either way.
    const onReadable = (): void => {
      // Each read() empties the buffer, so this ends when the socket has nothing more for now.
      for (
        let chunk = socket.read() as Buffer | null;
        chunk !== null;
        chunk = socket.read() as Buffer | null
      ) {
        received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
        const parsed = parseProxyHeader(received);
        if (parsed.state === 'incomplete') continue;
        if (parsed.state === 'invalid') {
          refuse(parsed.reason);
          return;
        }
        done();
        if (parsed.header.source !== null) rememberPeerAddress(socket, parsed.header.source.address);
        const rest = received.subarray(parsed.length);
        if (rest.length > 0) socket.unshift(rest);
        this.#target.accept(socket);
        return;
      }
    };
    const onError = (): void => done();
    const onClose = (): void => done();
    const timer = timers.setTimeout(
      () => refuse(`no complete PROXY protocol header within ${headerTimeoutMs} ms`),
      headerTimeoutMs,
    );
    socket.on('readable', onReadable);
    socket.on('error', onError);
    socket.on('close', onClose);
  }
}
