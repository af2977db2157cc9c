/**
 * The one way the ingress answers a viewer before any exchange exists, and tells the
 * observers: each method writes the answer (with a request id in `X-Request-Id` on error
 * pages), then hands its record (refusal-record.ts) to the exchanges' own observer. This is
 * the attack path (floods hit the edge-wide limits), so a refusal costs one registry lookup
 * in memory, one id and one record: no store call, no listener, nothing waits.
 *
 * The record's `tunnel` is the routed name only when an agent serves it or is reconnecting
 * to it (the registry says so); else NO_TUNNEL, which the history writer does not store and
 * statistics do not track, so random Host names grow neither.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ERROR_CATALOG, realStopwatch, type Stopwatch, type TunnelError } from '@burrow/protocol';
import { peerAddressOf } from '../listeners/peer-address.js';
import { clientAddressOf } from '../listeners/client-address.js';
import { answerTooManyConnections, TOO_MANY_CONNECTIONS } from './connection-limit.js';
import { errorPageFor, sendErrorPage, titleFor, type ErrorPage } from './error-page.js';
import type { ExchangeDeps } from './exchange.js';
import { DEFAULT_RECORD_OPTIONS } from './exchange-record.js';
import { sendHttpsRedirect } from './https-redirect.js';
import { writeRawErrorPage } from './raw-response.js';
import { NO_TUNNEL } from '../store/request-records.js';
import { refusalRecord, type RefusalAnswer } from './refusal-record.js';
import type { UpgradeViewer } from './upgrade-viewer.js';

/** What refusals need of the exchanges' dependencies (the same observer, registry, ids, clocks). */
export type RefusalDeps = Pick<
  ExchangeDeps,
  'observer' | 'registry' | 'timers' | 'newRequestId' | 'recordOptions' | 'stopwatch'
>;

export class Refusals {
  private readonly stopwatch: Stopwatch | null;
  private readonly keepQuery: boolean;

  constructor(private readonly deps: RefusalDeps) {
    this.stopwatch = deps.observer == null ? null : (deps.stopwatch ?? realStopwatch);
    this.keepQuery = (deps.recordOptions ?? DEFAULT_RECORD_OPTIONS).keepQuery;
  }

  /** The stopwatch at a request's arrival, for its refusal's `totalMs`; 0, with no clock read, when nothing observes. */
  arrival(): number {
    return this.stopwatch === null ? 0 : this.stopwatch();
  }

  /**
   * Answers an HTTP request (HTTP/1.1, or an HTTP/2 stream) with `page` and reads its body
   * away. `page` is the caller's fresh one: its `requestId` is set here. `name`: the tunnel
   * it was routed to, if any.
   */
  page(req: IncomingMessage, res: ServerResponse, page: ErrorPage, arrivedAt: number, name?: string): void {
    this.answer(req, page, arrivedAt, name, false, () => sendErrorPage(res, page, req.headers.accept));
    req.resume();
  }

  /**
   * Refuses an upgrade (an HTTP/1.1 Upgrade on its socket, or an HTTP/2 extended CONNECT on
   * its stream) with `page`; `page` as for `page`.
   */
  upgrade(
    req: IncomingMessage,
    viewer: UpgradeViewer,
    page: ErrorPage,
    arrivedAt: number,
    name?: string,
  ): void {
    this.answer(req, page, arrivedAt, name, true, () => viewer.failPage(page, req.headers.accept));
  }

  /** Answers an HTTP/1.1 CONNECT on its raw socket, which then closes; `page` as for `page`. */
  rawConnect(
    req: IncomingMessage,
    socket: Duplex,
    page: ErrorPage,
    arrivedAt: number,
    extra: readonly string[],
  ): void {
    this.answer(req, page, arrivedAt, undefined, false, () =>
      writeRawErrorPage(socket, page, req.headers.accept, extra),
    );
  }

  /** Gives `page` a request id, writes it with `write` (body bytes back), and records it. */
  private answer(
    req: IncomingMessage,
    page: ErrorPage,
    arrivedAt: number,
    name: string | undefined,
    upgrade: boolean,
    write: () => number,
  ): void {
    const requestId = this.deps.newRequestId();
    page.requestId = requestId;
    const bytesOut = write();
    this.request(req, arrivedAt, name, upgrade, {
      requestId,
      status: bytesOut > 0 ? page.status : 0,
      errorCode: page.code,
      bytesOut,
    });
  }

  /** Sends a plain-HTTP request to HTTPS (308); recorded without an error code. */
  redirect(
    req: IncomingMessage,
    res: ServerResponse,
    location: string,
    arrivedAt: number,
    name?: string,
  ): void {
    const requestId = this.deps.newRequestId();
    const bytesOut = sendHttpsRedirect(res, location, requestId);
    req.resume();
    this.request(req, arrivedAt, name, false, {
      requestId,
      status: 308,
      errorCode: null,
      bytesOut,
    });
  }

  /** A connection over `limits.connectionsPerIp` (HTTP/1.1): the 429, written before any request. */
  tooManyConnections(socket: Socket, max: number): void {
    const requestId = this.deps.newRequestId();
    const bytesOut = answerTooManyConnections(socket, max, requestId);
    const status = ERROR_CATALOG[TOO_MANY_CONNECTIONS].status;
    this.connection(socket, { requestId, status, errorCode: TOO_MANY_CONNECTIONS, bytesOut });
  }

  /** An HTTP/2 connection over the limit, which its listener closes without an answer. */
  connectionClosed(socket: Socket): void {
    const requestId = this.deps.newRequestId();
    this.connection(socket, { requestId, status: 0, errorCode: TOO_MANY_CONNECTIONS, bytesOut: 0 });
  }

  /**
   * A head node:http could not parse or did not get in time (`clientError`): the page, then
   * the socket closes. Its time is the parser's, unknown here: `totalMs` 0.
   */
  malformed(socket: Duplex, err: TunnelError): void {
    const requestId = this.deps.newRequestId();
    const bytesOut = writeRawErrorPage(socket, errorPageFor(err, titleFor(err), requestId), undefined);
    // node:http's clientError hands the connection's net.Socket (TLSSocket over TLS), typed as a Duplex.
    this.connection(socket as Socket, {
      requestId,
      status: bytesOut > 0 ? err.status : 0,
      errorCode: err.code,
      bytesOut,
    });
  }

  /** The record of a refused request, to the observer. */
  private request(
    req: IncomingMessage,
    arrivedAt: number,
    name: string | undefined,
    upgrade: boolean,
    answer: RefusalAnswer,
  ): void {
    const observer = this.deps.observer;
    if (observer == null) return;
    const totalMs = this.stopwatch!() - arrivedAt;
    const target = name === undefined ? undefined : this.deps.registry.lookup(name);
    // Only a name an agent serves now is a tunnel here, with that agent's owner; while one
    // reconnects the owner is not known in memory, so its refusals are nobody's.
    const tunnel = target !== undefined ? name! : NO_TUNNEL;
    const now = this.deps.timers.now();
    observer.record(
      refusalRecord(
        {
          tunnel,
          userId: target?.userId ?? null,
          method: req.method ?? '',
          path: req.url ?? '',
          host: req.headers.host ?? (req.headers[':authority'] as string | undefined) ?? '',
          clientAddress: clientAddressOf(req),
          upgrade,
          startedAt: now - totalMs,
          totalMs,
        },
        answer,
        this.keepQuery,
      ),
    );
  }

  /** The record of a connection refused before any request was read: answered at once, `totalMs` 0. */
  private connection(socket: Socket, answer: RefusalAnswer): void {
    const observer = this.deps.observer;
    if (observer == null) return;
    observer.record(
      refusalRecord(
        {
          tunnel: NO_TUNNEL,
          userId: null,
          method: '',
          path: '',
          host: '',
          clientAddress: peerAddressOf(socket),
          upgrade: false,
          startedAt: this.deps.timers.now(),
          totalMs: 0,
        },
        answer,
        this.keepQuery,
      ),
    );
  }
}
