/**
 * A bridge until the exchanges build RequestRecords themselves (issue 12's data-path part,
 * `ExchangeDeps.observer`): a record from today's `onFinished` hook, so the span exporter
 * runs on real requests now. It knows no byte counts or timing phases (zero and null). When
 * the exchanges hand records to `observer`, delete this file and its one use in server.ts.
 */

import type { TunnelRequest } from '../ingress/tunnel-request.js';
import type { RequestRecord } from './request-observer.js';

export interface FinishedInfo {
  status: number;
  error?: string;
  durationMs: number;
  request: TunnelRequest;
}

export function recordFromFinished(info: FinishedInfo): RequestRecord {
  const { request } = info;
  return {
    id: request.requestId,
    tunnel: request.route.name,
    userId: request.target?.userId ?? null,
    startedAt: new Date(request.startedAt),
    method: request.method,
    path: request.route.path,
    host: request.host,
    status: info.status,
    upgrade: false,
    bytesIn: 0,
    bytesOut: 0,
    clientAddress: request.clientAddress,
    traceId: request.trace.traceId,
    trace: request.trace,
    errorCode: info.error ?? null,
    timing: { edgeMs: null, tunnelMs: null, originMs: null, totalMs: info.durationMs },
    replayOf: null,
    capture: null,
  };
}
