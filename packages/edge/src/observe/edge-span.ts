/**
 * The edge's span for one finished request, built from its record as an OpenTelemetry
 * `ReadableSpan` carrying the ids the agent was already told in OPEN: span id = the
 * request's `trace.spanId`, parent = the viewer's span (`trace.parentSpanId`). Building the
 * span object here, instead of starting one through a Tracer (which draws its own ids), is
 * what keeps those ids exact; the span exists only once the request is over, off the data path.
 *
 * Only types come from the SDK here: its code loads on demand (otlp-export.ts), so the enum
 * values and attribute names (OpenTelemetry's stable HTTP semantic conventions) are spelled out.
 */

import type {
  Attributes,
  HrTime,
  SpanContext,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  TraceState,
} from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { RequestRecord } from './request-observer.js';
import type { TraceContext } from './trace-context.js';

/** Who reports the spans (the service and the instrumentation scope), and the SDK's TraceState. */
export interface SpanSource {
  readonly resource: Resource;
  readonly scope: InstrumentationScope;
  traceState(value: string): TraceState;
}

const SERVER = 1 as SpanKind.SERVER;
const UNSET = 0 as SpanStatusCode.UNSET;
const ERROR = 2 as SpanStatusCode.ERROR;
const SAMPLED = 1 as TraceFlags.SAMPLED;
const NOT_SAMPLED = 0 as TraceFlags.NONE;

/** OpenTelemetry semantic conventions (stable HTTP attributes). */
export const HTTP_ATTRIBUTES = {
  method: 'http.request.method',
  path: 'url.path',
  query: 'url.query',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  clientAddress: 'client.address',
  status: 'http.response.status_code',
  errorType: 'error.type',
} as const;

/** Attribute names of Burrow's own; HTTP ones are OpenTelemetry's semantic conventions. */
export const BURROW_ATTRIBUTES = {
  tunnel: 'burrow.tunnel',
  requestId: 'burrow.request_id',
  upgrade: 'burrow.upgrade',
  replayOf: 'burrow.replay_of',
  edgeMs: 'burrow.timing.edge_ms',
  tunnelMs: 'burrow.timing.tunnel_ms',
  originMs: 'burrow.timing.origin_ms',
  bytesIn: 'http.request.body.size',
  bytesOut: 'http.response.body.size',
} as const;

/** Milliseconds since the epoch (fractions kept) as OpenTelemetry's [seconds, nanoseconds]. */
export function hrTimeOf(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

/** `a.example.com:8443` → address and port; `[::1]:8080` → `::1`, 8080; a bare host has no port. */
export function splitHost(host: string): { address: string; port: number | null } {
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?$/.exec(host);
  if (match === null) return { address: host, port: null };
  const address = match[1]!.startsWith('[') ? match[1]!.slice(1, -1) : match[1]!;
  return { address, port: match[2] === undefined ? null : Number(match[2]) };
}

function attributesOf(record: RequestRecord): Attributes {
  const query = record.path.indexOf('?');
  const { address, port } = splitHost(record.host);
  const attributes: Attributes = {
    [HTTP_ATTRIBUTES.method]: record.method,
    [HTTP_ATTRIBUTES.path]: query === -1 ? record.path : record.path.slice(0, query),
    [HTTP_ATTRIBUTES.serverAddress]: address,
    [HTTP_ATTRIBUTES.clientAddress]: record.clientAddress,
    [BURROW_ATTRIBUTES.tunnel]: record.tunnel,
    [BURROW_ATTRIBUTES.requestId]: record.id,
    [BURROW_ATTRIBUTES.bytesIn]: record.bytesIn,
    [BURROW_ATTRIBUTES.bytesOut]: record.bytesOut,
  };
  if (query !== -1) attributes[HTTP_ATTRIBUTES.query] = record.path.slice(query + 1);
  if (port !== null) attributes[HTTP_ATTRIBUTES.serverPort] = port;
  if (record.status > 0) attributes[HTTP_ATTRIBUTES.status] = record.status;
  const errorType = record.errorCode ?? (record.status >= 500 ? String(record.status) : null);
  if (errorType !== null) attributes[HTTP_ATTRIBUTES.errorType] = errorType;
  if (record.upgrade) attributes[BURROW_ATTRIBUTES.upgrade] = true;
  if (record.replayOf !== null) attributes[BURROW_ATTRIBUTES.replayOf] = record.replayOf;
  const { edgeMs, tunnelMs, originMs } = record.timing;
  if (edgeMs !== null) attributes[BURROW_ATTRIBUTES.edgeMs] = edgeMs;
  if (tunnelMs !== null) attributes[BURROW_ATTRIBUTES.tunnelMs] = tunnelMs;
  if (originMs !== null) attributes[BURROW_ATTRIBUTES.originMs] = originMs;
  return attributes;
}

/**
 * The SERVER span `<METHOD> <tunnel>` for a finished request, from its start to the
 * response's close. Error status when the edge answered with or cut on an error code, or
 * the viewer got a 5xx (server-side semantics: a 4xx is the viewer's error, not ours).
 */
export function edgeSpanFrom(record: RequestRecord, trace: TraceContext, source: SpanSource): ReadableSpan {
  const traceFlags = trace.sampled ? SAMPLED : NOT_SAMPLED;
  const own: SpanContext = {
    traceId: trace.traceId,
    spanId: trace.spanId,
    traceFlags,
    isRemote: false,
    ...(trace.traceState === null ? {} : { traceState: source.traceState(trace.traceState) }),
  };
  const startMs = record.startedAt.getTime();
  const failed = record.errorCode !== null || record.status >= 500;
  return {
    name: `${record.method} ${record.tunnel}`,
    kind: SERVER,
    spanContext: () => own,
    parentSpanContext:
      trace.parentSpanId === null
        ? undefined
        : { traceId: trace.traceId, spanId: trace.parentSpanId, traceFlags, isRemote: true },
    startTime: hrTimeOf(startMs),
    endTime: hrTimeOf(startMs + record.timing.totalMs),
    duration: hrTimeOf(record.timing.totalMs),
    status: failed ? { code: ERROR, message: record.errorCode ?? `HTTP ${record.status}` } : { code: UNSET },
    attributes: attributesOf(record),
    links: [],
    events: [],
    ended: true,
    resource: source.resource,
    instrumentationScope: source.scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}
