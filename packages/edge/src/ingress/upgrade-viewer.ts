/**
 * The viewer's side of an upgrade (WebSocket): where the `UpgradeExchange` writes its answer
 * and which byte stream it pipes once the protocol switched. Two kinds: an HTTP/1.1 Upgrade
 * on a raw socket (`SocketViewer`, here) and an HTTP/2 extended CONNECT stream
 * (`Http2WebSocketViewer`, http2-websocket-viewer.ts). The agent's side is the same for both:
 * an HTTP/1.1 Upgrade to the origin.
 */

import type { Duplex } from 'node:stream';
import type { TunnelError } from '@burrow/protocol';
import { errorPageFor, titleFor, type ErrorPage } from './error-page.js';
import type { ForwardHead } from './exchange.js';
import { formatResponseHead, writeRawErrorPage } from './raw-response.js';

export interface UpgradeViewer {
  /** The viewer's bytes (a socket, or an HTTP/2 stream); its 'close' is the viewer leaving. */
  readonly duplex: Duplex;
  /** Bytes that came after the request head (HTTP/1.1); they go to the origin first. */
  readonly early: Buffer;
  /**
   * The `Sec-WebSocket-Key` the edge makes up for the origin when the viewer's request has
   * none to give (HTTP/2, RFC 8441 §5); undefined when the viewer's own goes through.
   */
  readonly websocketKey: string | undefined;
  /**
   * An error page in place of any answer; the viewer's side then ends. Nothing once it is
   * gone. Returns the body bytes written (0 when nothing was).
   */
  failPage(page: ErrorPage, accept: string | undefined): number;
  /** A whole answer made at the edge (a policy refusal); returns the header list as written. */
  respond(status: number, headers: string[], body: string): string[];
  /**
   * The origin's checked head: a 101 switches (the pipe follows); anything else is relayed and
   * the viewer's side ends after the body the pipe carries. May add to `head.headers`.
   */
  answer(head: ForwardHead): void;
  /** After the answer: the exchange failed (a reset tunnel stream), so the viewer's side is cut. */
  cut(): void;
}

/** `failPage` for a TunnelError, titled as the proxy titles it. */
export function failUpgrade(
  viewer: UpgradeViewer,
  err: TunnelError,
  accept: string | undefined,
  requestId?: string,
): number {
  return viewer.failPage(errorPageFor(err, titleFor(err), requestId), accept);
}

/** An HTTP/1.1 `Upgrade` request: answers are written raw, and every one but a 101 closes the socket. */
export class SocketViewer implements UpgradeViewer {
  readonly websocketKey = undefined;

  constructor(
    readonly duplex: Duplex,
    readonly early: Buffer,
  ) {}

  failPage(page: ErrorPage, accept: string | undefined): number {
    return writeRawErrorPage(this.duplex, page, accept);
  }

  respond(status: number, headers: string[], body: string): string[] {
    const out = [...headers, 'Connection', 'close'];
    this.duplex.end(formatResponseHead(status, '', out) + body);
    return out;
  }

  answer(head: ForwardHead): void {
    if (head.status !== 101) head.headers.push('Connection', 'close');
    // latin1: header values are byte strings (obs-text included), not UTF-8 text.
    this.duplex.write(formatResponseHead(head.status, head.reason, head.headers), 'latin1');
  }

  cut(): void {
    this.duplex.destroy();
  }
}
