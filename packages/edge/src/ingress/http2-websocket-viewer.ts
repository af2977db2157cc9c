/**
 * A WebSocket over HTTP/2 (RFC 8441): an extended CONNECT with `:protocol: websocket`, on a
 * stream of a viewer's HTTP/2 connection. The origin speaks HTTP/1.1, so the edge translates:
 * the ingress takes the request for the GET Upgrade it stands for, the OPEN head gets
 * `Upgrade: websocket` and a `Sec-WebSocket-Key` made up here (the viewer sends none), and
 * the origin's 101 reaches the viewer as `:status 200` without the HTTP/1.1 handshake's
 * `Sec-WebSocket-Accept`, `Connection` and `Upgrade`. The edge is the client of that
 * handshake, so the exchange checks the origin's answer (websocket-handshake.ts) before it
 * gets here. After it the stream itself is the two-way byte pipe; a reset of it ends only
 * that WebSocket. A failure page never throws into its caller (often the agent session's
 * frame dispatch): if Node refuses it, the stream is closed with INTERNAL_ERROR.
 */

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants, type ServerHttp2Stream } from 'node:http2';
import { closeAfterResponse } from '../listeners/http2-close.js';
import { sendErrorPage, type ErrorPage } from './error-page.js';
import type { ForwardHead } from './exchange.js';
import { http2StreamOf } from './http2-request.js';
import type { UpgradeViewer } from './upgrade-viewer.js';

/** The one protocol an extended CONNECT may name here. */
export const WEBSOCKET_PROTOCOL = 'websocket';

/**
 * The HTTP/1.1 handshake's proof, which an HTTP/2 answer does not carry (RFC 8441 §5); its
 * `Connection` and `Upgrade` are gone already (headers.ts, HTTP2_FORBIDDEN_HEADERS).
 */
const ACCEPT = 'sec-websocket-accept';

/** The `:protocol` of an extended CONNECT (lower-case), or undefined for any other request. */
export function connectProtocol(req: IncomingMessage): string | undefined {
  const protocol = req.headers[':protocol'];
  return typeof protocol === 'string' ? protocol.toLowerCase() : undefined;
}

export class Http2WebSocketViewer implements UpgradeViewer {
  readonly duplex: ServerHttp2Stream;
  readonly early = Buffer.alloc(0);
  /** RFC 6455 §4.1: 16 random bytes, base64; the exchange checks the origin's Accept for it. */
  readonly websocketKey = randomBytes(16).toString('base64');

  /** `req`/`res` are Node's compat `Http2ServerRequest`/`Http2ServerResponse` (see listeners/http2-viewers.ts). */
  constructor(
    req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {
    this.duplex = http2StreamOf(req);
  }

  failPage(page: ErrorPage, accept: string | undefined): number {
    if (this.gone()) return 0;
    // The last resort, often inside the agent session's frame dispatch, where a throw would
    // close the whole session: if even this fails, the stream is closed with INTERNAL_ERROR.
    try {
      const bytes = sendErrorPage(this.res, page, accept);
      this.endAfterAnswer();
      return bytes;
    } catch {
      if (!this.gone()) this.duplex.close(constants.NGHTTP2_INTERNAL_ERROR);
      return 0;
    }
  }

  respond(status: number, headers: string[], body: string): string[] {
    this.res.writeHead(status, headers).end(body);
    this.endAfterAnswer();
    return headers;
  }

  answer(head: ForwardHead): void {
    if (head.status !== 101) {
      // The body comes through the pipe, which ends the stream's side; then it closes.
      this.res.writeHead(head.status, head.headers);
      this.endAfterAnswer();
      return;
    }
    const out: string[] = [];
    for (let i = 0; i < head.headers.length; i += 2) {
      if (head.headers[i]!.toLowerCase() !== ACCEPT) out.push(head.headers[i]!, head.headers[i + 1]!);
    }
    this.res.writeHead(200, out);
  }

  /** RFC 8441 §5: an abort (TCP reset in HTTP/1.1 terms) is RST_STREAM CANCEL, not NO_ERROR. */
  cut(): void {
    if (!this.gone()) this.duplex.close(constants.NGHTTP2_CANCEL);
  }

  private gone(): boolean {
    return this.duplex.destroyed || this.duplex.closed;
  }

  /** A viewer that keeps its side open after a non-WebSocket answer must not hold the stream. */
  private endAfterAnswer(): void {
    closeAfterResponse(this.duplex);
  }
}
