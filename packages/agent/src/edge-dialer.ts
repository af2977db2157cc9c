/**
 * Opens the one outbound connection to the edge: a WebSocket to `/_burrow/connect` speaking
 * the `burrow.v1` subprotocol, wrapped as a session Transport. Injected into the agent as an
 * `EdgeDialer` so tests can hand it an in-memory transport instead.
 */

import type { IncomingMessage } from 'node:http';
import { rootCertificates } from 'node:tls';
import WebSocket from 'ws';
import {
  TunnelError,
  type Corkable,
  WEBSOCKET_SUBPROTOCOL,
  WebSocketTransport,
  websocketMaxPayload,
  type Transport,
} from '@burrow/protocol';
import { localhostLookup } from './localhost-lookup.js';
import { describeNetworkError } from './network-error.js';

export interface EdgeDialOptions {
  /** Base URL of the edge, http(s). */
  readonly server: URL;
  /** Largest frame payload our session accepts; sizes the WebSocket message limit. */
  readonly maxFramePayload: number;
  /** Aborting drops a connection attempt in progress; the promise rejects. */
  readonly signal: AbortSignal;
  /** Time allowed for TCP + TLS + the HTTP upgrade, in ms. */
  readonly timeoutMs: number;
  /** PEM of CA certificates trusted in addition to Node's roots for an https edge; null for the roots alone. */
  readonly ca: string | null;
}

/** Resolves with a transport ready for a Session; rejects with a TunnelError. */
export type EdgeDialer = (options: EdgeDialOptions) => Promise<Transport>;

/** `http://edge:8080/base` → `ws://edge:8080/base/_burrow/connect` (https → wss). */
export function connectUrl(server: URL): URL {
  const url = new URL(server.href);
  url.protocol = server.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/_burrow/connect`;
  url.search = '';
  url.hash = '';
  return url;
}

/** The default dialer: a `ws` client with compression off (frames are already compact or opaque). */
export const dialWebSocket: EdgeDialer = (options) => {
  const url = connectUrl(options.server);
  return new Promise<Transport>((resolve, reject) => {
    if (options.signal.aborted) {
      reject(new TunnelError('TUN_ERR_CONNECT_FAILED', 'connection attempt cancelled'));
      return;
    }
    const ws = new WebSocket(url, WEBSOCKET_SUBPROTOCOL, {
      perMessageDeflate: false,
      maxPayload: websocketMaxPayload(options.maxFramePayload),
      handshakeTimeout: options.timeoutMs,
      // Masking guards browsers against proxy cache poisoning; the agent is not a browser, and
      // a zero mask lets ws skip an XOR and a copy of every byte the agent sends.
      generateMask: (mask: Buffer) => mask.fill(0),
      // `<name>.localhost` is loopback (RFC 6761), as in browsers and curl.
      lookup: localhostLookup,
      // Added to the roots, not instead of them: an edge may move to a public CA. Verification
      // itself is never turned off (ws verifies, with the URL's host as SNI and name).
      ...(options.ca === null ? {} : { ca: [...rootCertificates, options.ca] }),
    });
    // ws reports a terminated handshake with a late 'error'; without a listener it would crash.
    ws.on('error', () => undefined);
    let socket: Corkable | undefined;
    ws.once('upgrade', (res: IncomingMessage) => {
      socket = res.socket;
    });
    const fail = (err: TunnelError): void => {
      cleanup();
      ws.terminate();
      reject(err);
    };
    const onAbort = (): void =>
      fail(new TunnelError('TUN_ERR_CONNECT_FAILED', 'connection attempt cancelled'));
    const onError = (err: Error): void =>
      fail(describeNetworkError(err, `the edge at ${options.server.host}`));
    const onUnexpected = (_req: unknown, res: { statusCode?: number }): void =>
      fail(rejectedUpgrade(options.server, res.statusCode ?? 0));
    const onOpen = (): void => {
      cleanup();
      // Later errors surface through the transport's close event.
      resolve(new WebSocketTransport(ws, { remoteAddress: url.host, socket }));
    };
    const cleanup = (): void => {
      options.signal.removeEventListener('abort', onAbort);
      ws.off('error', onError);
      ws.off('unexpected-response', onUnexpected);
      ws.off('open', onOpen);
    };
    options.signal.addEventListener('abort', onAbort, { once: true });
    ws.on('error', onError);
    ws.on('unexpected-response', onUnexpected);
    ws.on('open', onOpen);
  });
};

/**
 * The server answered HTTP instead of upgrading. 5xx, 408 and 429 are passing conditions
 * (a proxy in front of a restarting edge); any other 4xx means the URL is not a Burrow
 * edge, which retrying cannot fix.
 */
function rejectedUpgrade(server: URL, status: number): TunnelError {
  const what = `the server at ${server.origin} answered HTTP ${status} instead of accepting a tunnel connection`;
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
    return new TunnelError('TUN_ERR_CONFIG_INVALID', `${what}; check that --server points to a Burrow edge`);
  }
  return new TunnelError('TUN_ERR_CONNECT_FAILED', what);
}
