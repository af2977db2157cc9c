/**
 * A request record as one row of plain values, in `REQUEST_ROW_COLUMNS` order: what crosses
 * to the SQLite insert thread (request-insert-thread.ts). Only primitives, string arrays and
 * exact-size `Uint8Array`s, so a batch is one flat array that structured clone copies without
 * walking objects; header lists go as arrays and are turned into JSON text by the worker.
 */

import type { RequestRecord } from './request-records.js';

/** Every column but the capture, in order: what a page of history carries. */
export const REQUEST_SUMMARY_COLUMNS = [
  'id',
  'tunnel',
  'user_id',
  'started_at',
  'method',
  'path',
  'host',
  'status',
  'upgrade',
  'bytes_in',
  'bytes_out',
  'client_address',
  'trace_id',
  'error_code',
  'edge_ms',
  'tunnel_ms',
  'origin_ms',
  'total_ms',
  'replay_of',
] as const;

/** The `request_records` columns a row fills, in order (schema.ts, migration 0006). */
export const REQUEST_ROW_COLUMNS = [
  ...REQUEST_SUMMARY_COLUMNS,
  'request_headers',
  'request_body',
  'request_body_truncated',
  'response_headers',
  'response_body',
  'response_body_truncated',
] as const;

export const REQUEST_ROW_WIDTH = REQUEST_ROW_COLUMNS.length;

/** Indexes of the two header columns, which travel as string arrays (or null). */
export const REQUEST_HEADERS_AT = REQUEST_ROW_COLUMNS.indexOf('request_headers');
export const RESPONSE_HEADERS_AT = REQUEST_ROW_COLUMNS.indexOf('response_headers');

/** One value of a row as it crosses to the worker. */
export type RequestRowValue = string | number | null | readonly string[] | Uint8Array;

/**
 * A body the worker can take: a Buffer that is a slice of a larger one (Node's pool for small
 * copies) would be cloned with its whole backing memory, so it is copied to its own.
 */
function exactBytes(body: Buffer | null): Uint8Array | null {
  if (body === null) return null;
  if (body.byteOffset === 0 && body.byteLength === body.buffer.byteLength) return body;
  return new Uint8Array(body);
}

/** Appends `record`'s row to `out` (one flat array per batch: no array per record). */
export function pushRequestRow(out: RequestRowValue[], record: RequestRecord): void {
  const { timing, capture } = record;
  out.push(
    record.id,
    record.tunnel,
    record.userId,
    record.startedAt.getTime(),
    record.method,
    record.path,
    record.host,
    record.status,
    record.upgrade ? 1 : 0,
    record.bytesIn,
    record.bytesOut,
    record.clientAddress,
    record.traceId,
    record.errorCode,
    timing.edgeMs,
    timing.tunnelMs,
    timing.originMs,
    timing.totalMs,
    record.replayOf,
  );
  if (capture === null) {
    out.push(null, null, 0, null, null, 0);
    return;
  }
  out.push(
    capture.requestHeaders,
    exactBytes(capture.requestBody),
    capture.requestBodyTruncated ? 1 : 0,
    capture.responseHeaders,
    exactBytes(capture.responseBody),
    capture.responseBodyTruncated ? 1 : 0,
  );
}

/** The one statement the worker prepares: a row whose id exists already is skipped. */
export function requestInsertSql(): string {
  const columns = REQUEST_ROW_COLUMNS.join(', ');
  const params = REQUEST_ROW_COLUMNS.map(() => '?').join(', ');
  return `insert into request_records (${columns}) values (${params}) on conflict (id) do nothing`;
}
