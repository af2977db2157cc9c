/**
 * The one JSON shape of a request record, camelCase like the rest of the API: pages of
 * `GET /tunnels/{name}/requests`, `GET /requests/{id}` (with its capture) and the events of
 * `GET /tunnels/{name}/requests/stream` all use it. Captured bodies are base64 (they may be
 * binary); captured headers are `[name, value]` pairs in the order they were sent.
 */

import type { RequestCapture, RequestRecord } from '../store/request-records.js';

export interface RequestCaptureView {
  requestHeaders: [string, string][];
  requestBody: string | null;
  requestBodyTruncated: boolean;
  responseHeaders: [string, string][];
  responseBody: string | null;
  responseBodyTruncated: boolean;
}

/**
 * The record's fields as JSON: `startedAt` an ISO string, `capture` in its view form and only
 * where asked for; the trace context, which stores do not keep, never.
 */
export type RequestView = Omit<RequestRecord, 'startedAt' | 'trace' | 'capture'> & {
  startedAt: string;
  /** Only in `GET /requests/{id}`: null when the tunnel's policy did not capture. */
  capture?: RequestCaptureView | null;
};

function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

function captureView(capture: RequestCapture): RequestCaptureView {
  return {
    requestHeaders: pairs(capture.requestHeaders),
    requestBody: capture.requestBody === null ? null : capture.requestBody.toString('base64'),
    requestBodyTruncated: capture.requestBodyTruncated,
    responseHeaders: pairs(capture.responseHeaders),
    responseBody: capture.responseBody === null ? null : capture.responseBody.toString('base64'),
    responseBodyTruncated: capture.responseBodyTruncated,
  };
}

/** The record as the API shows it; `withCapture` adds `capture` (the single-record answer). */
export function requestView(record: RequestRecord, withCapture = false): RequestView {
  const { timing } = record;
  const view: RequestView = {
    id: record.id,
    tunnel: record.tunnel,
    userId: record.userId,
    startedAt: record.startedAt.toISOString(),
    method: record.method,
    path: record.path,
    host: record.host,
    status: record.status,
    upgrade: record.upgrade,
    bytesIn: record.bytesIn,
    bytesOut: record.bytesOut,
    clientAddress: record.clientAddress,
    traceId: record.traceId,
    errorCode: record.errorCode,
    timing: {
      edgeMs: timing.edgeMs,
      tunnelMs: timing.tunnelMs,
      originMs: timing.originMs,
      totalMs: timing.totalMs,
    },
    replayOf: record.replayOf,
  };
  if (withCapture) view.capture = record.capture === null ? null : captureView(record.capture);
  return view;
}

/**
 * One Server-Sent Event for a new record: `id` is the record's (so a client can fetch it),
 * `data` its view on one line (JSON escapes every newline). Without the capture: the record
 * may be fetched with it once the history writer stored it.
 */
export function requestEvent(record: RequestRecord): string {
  // Ids are the edge's own UUIDs; a line break would still end the field early, so none pass.
  const id = /[\r\n]/.test(record.id) ? record.id.replace(/[\r\n]/g, '') : record.id;
  return `event: request\nid: ${id}\ndata: ${JSON.stringify(requestView(record))}\n\n`;
}
