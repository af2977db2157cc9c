/**
 * The record of a request the ingress answered before any exchange existed (an edge-wide
 * limit, a head it will not read, a Host no tunnel serves, CONNECT, a redirect to HTTPS): the
 * same `RequestRecord` an exchange makes, so every observer (access log, metrics, statistics,
 * history, live feed) hears of refusals too. Built from what the ingress already holds: no
 * store call, no listener, one object.
 */

import type { RequestRecord } from '../store/request-records.js';
import { recordHost, recordMs, recordPath } from './exchange-record.js';

/** What the ingress knows of a request it refused. */
export interface Refusal {
  /** The request id (the one in the answer's `X-Request-Id` when it carried one). */
  readonly requestId: string;
  /** The tunnel name; NO_TUNNEL (request-records.ts) when there is none (see `Refusals`). */
  readonly tunnel: string;
  /** The owner of the target serving `tunnel` when the request arrived; null for none or anonymous. */
  readonly userId: string | null;
  /** As sent; '' when no request was parsed (a refused connection, a malformed head). */
  readonly method: string;
  /** The request target as the viewer sent it; the record cuts it and drops the query as configured. */
  readonly path: string;
  /** The Host (HTTP/2: `:authority`) as sent; '' without one. */
  readonly host: string;
  readonly clientAddress: string;
  readonly upgrade: boolean;
  /** The status written; 0 when the connection was closed without an answer. */
  readonly status: number;
  /** The stable code the answer carried (`X-Burrow-Error`); null for a plain answer (a redirect). */
  readonly errorCode: string | null;
  /** Body bytes of the answer the edge wrote. */
  readonly bytesOut: number;
  /** Epoch ms (the edge's timers) the request arrived. */
  readonly startedAt: number;
  /** Arrival to the answer written, ms on the monotonic stopwatch. */
  readonly totalMs: number;
}

/**
 * The refusal as a record. No stream was opened, so all its time is the edge's: `edgeMs` is
 * `totalMs`, the tunnel and origin shares null; nothing came from the viewer's body, nothing
 * is captured and no trace is exported (`trace` absent).
 */
export function refusalRecord(refusal: Refusal, keepQuery: boolean): RequestRecord {
  const totalMs = recordMs(Math.max(0, refusal.totalMs));
  return {
    id: refusal.requestId,
    tunnel: refusal.tunnel,
    userId: refusal.userId,
    startedAt: new Date(refusal.startedAt),
    method: refusal.method,
    path: recordPath(refusal.path, keepQuery),
    host: recordHost(refusal.host),
    status: refusal.status,
    upgrade: refusal.upgrade,
    bytesIn: 0,
    bytesOut: refusal.bytesOut,
    clientAddress: refusal.clientAddress,
    traceId: null,
    errorCode: refusal.errorCode,
    timing: { edgeMs: totalMs, tunnelMs: null, originMs: null, totalMs },
    replayOf: null,
    capture: null,
  };
}
