/**
 * The agent's span for one origin call: kind CLIENT, a child of the edge's span (the parent
 * in OPEN's traceparent), with the span id the origin was given in its own traceparent.
 * Built as a finished `ReadableSpan` from the agent's request record once the exchange is
 * over, so the ids are exactly the ones already sent.
 *
 * Only types come from the SDK here: its code loads on demand (otlp-export.ts), so the enum
 * values and attribute names (OpenTelemetry's stable HTTP semantic conventions) are spelled out.
 */

import type { Attributes, HrTime, SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { originHost, originPort } from '../forward-context.js';
import { isOriginError, type RequestRecord } from '../request-log.js';

/** Who reports the spans: the service (resource) and the instrumentation scope. */
export interface SpanSource {
  readonly resource: Resource;
  readonly scope: InstrumentationScope;
}

/** One traced origin call: its ids and when it started (ms since the epoch, fractions kept). */
export interface OriginCall {
  readonly traceId: string;
  readonly spanId: string;
  /** The edge's span. */
  readonly parentSpanId: string;
  readonly origin: URL;
  readonly startMs: number;
}

const CLIENT = 2 as SpanKind.CLIENT;
const UNSET = 0 as SpanStatusCode.UNSET;
const ERROR = 2 as SpanStatusCode.ERROR;
const SAMPLED = 1 as TraceFlags.SAMPLED;

/** OpenTelemetry semantic conventions (stable HTTP client attributes). */
export const HTTP_ATTRIBUTES = {
  method: 'http.request.method',
  url: 'url.full',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  status: 'http.response.status_code',
  errorType: 'error.type',
} as const;

function hrTimeOf(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

/**
 * `<METHOD> <origin host:port>`, ending at `endMs`. Error status when the origin failed
 * (a TUN_ERR_ORIGIN_* code) or answered 4xx/5xx (client-side semantics). Any other code (a
 * viewer's cancel, a dropped session) is not the origin's failure: it is only recorded in
 * `burrow.error_code`, which every coded exchange carries.
 */
export function originSpanFrom(
  call: OriginCall,
  record: RequestRecord,
  endMs: number,
  source: SpanSource,
): ReadableSpan {
  const host = originHost(call.origin);
  const port = originPort(call.origin);
  const attributes: Attributes = {
    [HTTP_ATTRIBUTES.method]: record.method,
    [HTTP_ATTRIBUTES.url]: `${call.origin.protocol}//${call.origin.host}${record.path}`,
    [HTTP_ATTRIBUTES.serverAddress]: host,
    [HTTP_ATTRIBUTES.serverPort]: port,
    'burrow.tunnel': record.tunnel,
    'burrow.request_id': record.requestId,
  };
  if (record.status !== null) attributes[HTTP_ATTRIBUTES.status] = record.status;
  if (record.error !== null) attributes['burrow.error_code'] = record.error;
  const originError = record.error !== null && isOriginError(record.error) ? record.error : null;
  const errorType =
    originError ?? (record.status !== null && record.status >= 400 ? String(record.status) : null);
  if (errorType !== null) attributes[HTTP_ATTRIBUTES.errorType] = errorType;
  const own = { traceId: call.traceId, spanId: call.spanId, traceFlags: SAMPLED, isRemote: false };
  const end = Math.max(endMs, call.startMs);
  return {
    name: `${record.method} ${host}:${port}`,
    kind: CLIENT,
    spanContext: () => own,
    parentSpanContext: {
      traceId: call.traceId,
      spanId: call.parentSpanId,
      traceFlags: SAMPLED,
      isRemote: true,
    },
    startTime: hrTimeOf(call.startMs),
    endTime: hrTimeOf(end),
    duration: hrTimeOf(end - call.startMs),
    status: errorType === null ? { code: UNSET } : { code: ERROR, message: errorType },
    attributes,
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
