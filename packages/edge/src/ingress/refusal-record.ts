/**
 * The record of a request the ingress answered before any exchange existed (an edge-wide
 * limit, a head it will not read, a Host no tunnel serves, CONNECT, a redirect to HTTPS): the
 * same `RequestRecord` an exchange makes, so every observer (access log, metrics, statistics,
 * history, live feed) hears of refusals too. Built from what the ingress already holds: no
 * store call, no listener, one object.
 */

import type { RequestRecord } from '../store/request-records.js';
import { recordHost, recordMs, recordPath } from './exchange-record.js';

/** How the ingress answered a request it refused. */
export interface RefusalAnswer {
  /** The request id (the one in the answer's `X-Request-Id` when it carried one). */
  readonly requestId: string;
  /** The status written; 0 when the connection was closed without an answer. */
  readonly status: number;
  /** The stable code the answer carried (`X-Burrow-Error`); null for a plain answer (a redirect). */
  readonly errorCode: string | null;
  /** Body bytes of the answer the edge wrote. */
  readonly bytesOut: number;
}

/** What the ingress knows of a request it refused. */
export interface RefusedRequest {
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
  /** Epoch ms (the edge's timers) the request arrived. */
  readonly startedAt: number;
  /** Arrival to the answer written, ms on the monotonic stopwatch. */
  readonly totalMs: number;
}

/**
 * The refusal as a record. No stream was opened, so, as for an exchange that opened none,
 * `edgeMs` (head to OPEN) and the tunnel and origin shares are null; nothing came from the viewer's body, nothing
 * is captured and no trace is exported (`trace` absent). Two arguments rather than one merged
 * object: an object spread followed by more fields costs V8 about 12 µs, more than all the rest.
 */
export function refusalRecord(
  request: RefusedRequest,
  answer: RefusalAnswer,
  keepQuery: boolean,
): RequestRecord {
  const totalMs = recordMs(Math.max(0, request.totalMs));
  return {
    id: answer.requestId,
    tunnel: request.tunnel,
    userId: request.userId,
    startedAt: new Date(request.startedAt),
    method: request.method,
    path: recordPath(request.path, keepQuery),
    host: recordHost(request.host),
    status: answer.status,
    upgrade: request.upgrade,
    bytesIn: 0,
    bytesOut: answer.bytesOut,
    clientAddress: request.clientAddress,
    traceId: null,
    errorCode: answer.errorCode,
    timing: { edgeMs: null, tunnelMs: null, originMs: null, totalMs },
    replayOf: null,
    capture: null,
  };
}
