/**
 * Request history: one record per request (or upgrade) through a tunnel, written in batches
 * by the history writer (observe/history-writer.ts) and read by the control API. The record
 * is the one shape every observer gets (history, statistics, metrics, access log, live feed).
 */

import type { TraceContext } from '../observe/trace-context.js';

/** Where a request's time went, in milliseconds. */
export interface RequestTiming {
  /** From the head's arrival at the edge to OPEN sent (policy, warning page, waiting through a reconnect); null when no stream was opened. */
  edgeMs: number | null;
  /** OPEN sent to the response head back, less the origin's own time: the tunnel's round trip; null without a response head. */
  tunnelMs: number | null;
  /** The origin's time to the first byte of its response head, as the agent measured it; null when the agent did not say. */
  originMs: number | null;
  /** Head arrival to the end of the exchange (the response's close). */
  totalMs: number;
}

/**
 * Headers and bodies, kept only when the tunnel's policy turns capture on. Header values
 * named in the redaction list are stored as `***`. Bodies beyond the policy's `maxBytes`
 * are cut there and marked truncated.
 */
export interface RequestCapture {
  /** Flat `[name, value, name, value, …]` as the viewer sent them (after hop-by-hop removal). */
  requestHeaders: string[];
  requestBody: Buffer | null;
  requestBodyTruncated: boolean;
  /** Flat list as the viewer received them; empty when no response head was sent. */
  responseHeaders: string[];
  responseBody: Buffer | null;
  responseBodyTruncated: boolean;
}

/**
 * `RequestRecord.tunnel` of a request refused before it reached a tunnel: before routing, or
 * for a name no agent serves. Such records are logged and counted, never stored.
 */
export const NO_TUNNEL = '';

export interface RequestRecord {
  /** The request id (`X-Request-Id` toward the origin and in error pages); unique. */
  id: string;
  /** The tunnel name the request was routed to; NO_TUNNEL for a refusal that reached none. */
  tunnel: string;
  /** The tunnel owner's user id when the request arrived; null for anonymous tunnels. */
  userId: string | null;
  startedAt: Date;
  method: string;
  /** The path as forwarded, with the query unless `history.keepQuery` is off; cut at 2,048 characters. */
  path: string;
  /** The Host (HTTP/2: `:authority`) the viewer sent; cut at 255 characters. */
  host: string;
  /** The status the viewer got (101 for an upgrade); 0 when it left before any. */
  status: number;
  /** A WebSocket (or other Upgrade) exchange rather than a plain request. */
  upgrade: boolean;
  /** Body bytes from the viewer (upgrades: bytes viewer → origin after the 101). */
  bytesIn: number;
  /** Body bytes to the viewer (upgrades: bytes origin → viewer after the 101). */
  bytesOut: number;
  clientAddress: string;
  /** W3C trace id (32 hex) the request was traced under. */
  traceId: string | null;
  /**
   * The request's whole trace context (`TunnelRequest.trace`, the same object: no copy).
   * The span exporter needs the edge's span id and the viewer's parent span id, which
   * `traceId` alone does not give; stores do not keep it. Absent: the request is not exported.
   */
  trace?: TraceContext;
  /** The `TUN_ERR_*` code when the edge answered or cut the exchange, else null. */
  errorCode: string | null;
  timing: RequestTiming;
  /** The record this one replays (`POST /requests/{id}/replay`), else null. */
  replayOf: string | null;
  capture: RequestCapture | null;
}

/** HTTP status class, 1 to 5 (`2` is 200–299); 0 selects records without a status. */
export type StatusClass = 0 | 1 | 2 | 3 | 4 | 5;

export interface RequestQuery {
  tunnel: string;
  /** Only this user's records; undefined for an admin, who sees all. */
  userId?: string | null;
  statusClass?: StatusClass;
  method?: string;
  pathPrefix?: string;
  /** Inclusive lower and exclusive upper bound on `startedAt`. */
  since?: Date;
  until?: Date;
  errorCode?: string;
  /** 1 to 200. */
  limit: number;
  /** Opaque, from a previous page's `nextCursor`; pages go newest first. */
  cursor?: string;
}

export interface RequestPage {
  /** Newest first. */
  records: RequestRecord[];
  /** Null on the last page. */
  nextCursor: string | null;
}

/** What one retention pass did. */
export interface RequestPruneStats {
  /** Records deleted, by age and by count. */
  deleted: number;
  /**
   * Tunnels whose index the pass walked to find a cut-off: those in its scope, or, checking
   * every tunnel, those a grouped count found over the cap and those filling a 10,000-entry
   * slice alone, walked without a count (the others were counted, or not read at all).
   */
  tunnelsChecked: number;
  /** The pass checked every tunnel in the table rather than those inserted for since the last. */
  everyTunnel: boolean;
}

export interface RequestHistoryStore {
  /** One statement (or transaction) per batch; a record whose id exists already is skipped. */
  insertRequestRecords(records: readonly RequestRecord[]): Promise<void>;
  /** Throws TUN_ERR_BAD_REQUEST (field named) for a cursor this store did not make. */
  listRequestRecords(query: RequestQuery): Promise<RequestPage>;
  getRequestRecord(id: string): Promise<RequestRecord | null>;
  /**
   * Deletes records older than `olderThan` and, per tunnel, all but the newest
   * `keepPerTunnel` (its whole part). The count is checked only where it can have grown past
   * the cap: the tunnels this store instance inserted records for since its last pass, less
   * those whose last seen count plus those inserts still fits; every tunnel (by a grouped
   * count in slices of the index) on its first pass, when the cap is lower than the last
   * pass's, or when more tunnels were inserted for than it keeps names of (dirty-tunnels.ts).
   * Records another instance (another edge on the same database) inserted are pruned by that
   * instance's passes.
   */
  pruneRequestRecords(options: { olderThan: Date; keepPerTunnel: number }): Promise<RequestPruneStats>;
}
