/**
 * HTTP/2 viewers (ALPN `h2` on the HTTPS listener). Each stream arrives through Node's
 * compatibility API as an `Http2ServerRequest`/`Http2ServerResponse` pair and goes to the
 * same ingress request handler as HTTP/1.1. Those objects provide every member the ingress
 * and the exchanges use (headers, rawHeaders, url, method, socket.remoteAddress,
 * socket.encrypted; writeHead, write, end, destroy, headersSent, the stream events); where
 * HTTP/2 differs, the ingress checks `httpVersionMajor === 2` (authority from `:authority`,
 * pseudo-headers never forwarded, no reason phrase or connection headers written, a failed
 * upload closes its stream, not the connection). A reset stream ends only itself.
 * `SETTINGS_ENABLE_CONNECT_PROTOCOL` is on: a WebSocket comes as an extended CONNECT stream
 * (RFC 8441), through the compat 'connect' event to the ingress (ingress/http2-websocket-viewer.ts).
 *
 * Limits: `limits.http2MaxStreams` concurrent streams, `limits.maxHeaderBytes` as the header
 * list size, HTTP2_REQUEST_MS per upload (a stream answered before its upload ended is closed
 * at once), HTTP2_HALF_CLOSED_MS for a WebSocket's viewer to end its side after ours;
 * settings and ping floods and rapid resets are bounded by Node and nghttp2
 * (maxOutstandingPings, maxOutstandingSettings, maxSessionInvalidFrames,
 * maxSessionRejectedStreams, nghttp2's stream reset rate limit).
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  constants,
  createServer,
  type Http2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { realTimers, type Timers } from '@burrow/protocol';
import { closeAfterResponse } from './http2-close.js';

export interface Http2ViewerOptions {
  maxStreams: number;
  /** `limits.maxHeaderBytes`. */
  maxHeaderBytes: number;
  /** `limits.maxHeaderCount`: regular fields; the pseudo-headers come on top. */
  maxHeaderCount: number;
  /** How long a request (its whole upload) may take; HTTP2_REQUEST_MS unless given. */
  requestMs?: number;
  /** For the upload bound; real timers unless given. */
  timers?: Timers;
  /** The ingress's request handler, the one HTTP/1.1 requests go to. */
  request(req: IncomingMessage, res: ServerResponse): void;
  /**
   * CONNECT: an extended CONNECT (`:protocol`, RFC 8441) is a WebSocket for the ingress to
   * serve or refuse, and closes its stream itself; plain CONNECT is refused as over HTTP/1.1.
   */
  connect(req: IncomingMessage, res: ServerResponse): void;
  /** `limits.connectionsPerIp`, shared with the plain listener: false refuses the connection. */
  admitConnection(socket: TLSSocket): boolean;
  onError(err: unknown): void;
}

/** A connection without a stream for this long gets GOAWAY (browsers reopen when needed). */
export const HTTP2_IDLE_MS = 60_000;

/**
 * A request whose upload has not ended this long after it began is reset (CANCEL): HTTP/2
 * has no `requestTimeout`; this is Node's HTTP/1.1 default for it.
 */
export const HTTP2_REQUEST_MS = 300_000;

/**
 * An extended CONNECT stream (a WebSocket) whose edge side has ended (END_STREAM sent: the
 * origin closed) is closed with NO_ERROR if the viewer has not ended or reset its side within
 * this long: it is exempt from the upload bound, and would otherwise hold its stream slot and
 * the half-open tunnel stream for good. A WebSocket's closing handshake takes far less.
 */
export const HTTP2_HALF_CLOSED_MS = 30_000;

/** `:method`, `:scheme`, `:authority`, `:path`, and `:protocol` at most. */
const PSEUDO_HEADERS = 5;

/** Whether the viewer may still send on `stream` (it has not sent END_STREAM). */
function remoteOpen(stream: ServerHttp2Stream): boolean {
  const { state } = stream.state;
  return (
    state === constants.NGHTTP2_STREAM_STATE_OPEN ||
    state === constants.NGHTTP2_STREAM_STATE_HALF_CLOSED_LOCAL
  );
}

export class Http2Viewers {
  private readonly server: Http2Server;
  private readonly sessions = new Set<ServerHttp2Session>();

  constructor(private readonly options: Http2ViewerOptions) {
    this.server = createServer({
      settings: {
        maxConcurrentStreams: options.maxStreams,
        maxHeaderListSize: options.maxHeaderBytes,
        // RFC 8441: browsers open WebSockets as streams of this connection, not a second one.
        enableConnectProtocol: true,
      },
      // One more than allowed, so a head over the limit reaches the ingress and gets its 431.
      maxHeaderListPairs: options.maxHeaderCount + PSEUDO_HEADERS + 1,
    });
    // The compat objects carry what the ingress uses (see the file comment); this is the one
    // place they are passed as their HTTP/1.1 counterparts.
    this.server.on('request', (req: Http2ServerRequest, res: Http2ServerResponse) =>
      options.request(req as unknown as IncomingMessage, res as unknown as ServerResponse),
    );
    this.server.on('connect', (req: Http2ServerRequest, res: Http2ServerResponse) =>
      options.connect(req as unknown as IncomingMessage, res as unknown as ServerResponse),
    );
    this.server.on('session', (session: ServerHttp2Session) => this.track(session));
    this.server.on('sessionError', (err: Error) => options.onError(err));
  }

  /** Serves HTTP/2 on a TLS connection that negotiated `h2`. */
  accept(tls: TLSSocket): void {
    if (!this.options.admitConnection(tls)) {
      tls.destroy();
      return;
    }
    this.server.emit('connection', tls);
  }

  private track(session: ServerHttp2Session): void {
    this.sessions.add(session);
    let open = 0;
    session.setTimeout(HTTP2_IDLE_MS, () => {
      if (open === 0) session.close();
    });
    session.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      open++;
      stream.once('close', () => open--);
      // An extended CONNECT's stream is a WebSocket's life, not an upload: the ingress ends it.
      if (headers[':protocol'] !== undefined) this.boundHalfClosed(stream);
      else if (!stream.endAfterHeaders) this.boundUpload(stream);
    });
    session.once('close', () => this.sessions.delete(session));
  }

  /**
   * The response is out but the viewer is still uploading: the stream is closed (NO_ERROR)
   * once the response has really ended. Node would otherwise keep it open once its request
   * was resumed, and HTTP/2 has no request timeout: a viewer could hold streams (and a
   * graceful shutdown) forever; hence also the bound on the whole upload.
   */
  private boundUpload(stream: ServerHttp2Stream): void {
    const timers = this.options.timers ?? realTimers;
    stream.once('finish', () => {
      if (remoteOpen(stream)) closeAfterResponse(stream, timers);
    });
    const timer = timers.setTimeout(() => {
      if (remoteOpen(stream) && !stream.closed) stream.close(constants.NGHTTP2_CANCEL);
    }, this.options.requestMs ?? HTTP2_REQUEST_MS);
    stream.once('close', () => timers.clearTimeout(timer));
  }

  /**
   * Our side of an extended CONNECT stream has ended and the viewer's has not: after
   * HTTP2_HALF_CLOSED_MS the stream is closed (NO_ERROR once our END_STREAM is really sent).
   */
  private boundHalfClosed(stream: ServerHttp2Stream): void {
    const timers = this.options.timers ?? realTimers;
    stream.once('finish', () => {
      if (!remoteOpen(stream)) return;
      const timer = timers.setTimeout(() => {
        if (remoteOpen(stream)) closeAfterResponse(stream, timers);
      }, HTTP2_HALF_CLOSED_MS);
      stream.once('close', () => timers.clearTimeout(timer));
    });
  }

  /**
   * GOAWAY to every connection: streams in flight may finish, no new ones start; after
   * `graceMs` the connections still open are destroyed (as the plain listener's are), so a
   * stream nobody ends cannot hold the shutdown.
   */
  close(graceMs: number): void {
    for (const session of this.sessions) session.close();
    if (this.sessions.size === 0) return;
    const forced = setTimeout(() => this.destroy(), graceMs).unref();
    for (const session of this.sessions)
      session.once('close', () => {
        if (this.sessions.size === 0) clearTimeout(forced);
      });
  }

  destroy(): void {
    for (const session of this.sessions) session.destroy();
  }
}
