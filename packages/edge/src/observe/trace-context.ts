/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): a viewer's `traceparent` is
 * continued, a new trace is started when it is absent or malformed, and the origin gets a
 * `traceparent` whose parent is the edge's span. Ids come from a pooled random buffer: this
 * runs for every request, and one `randomFillSync` per 256 ids is far cheaper than one each.
 */

import { randomFillSync } from 'node:crypto';

export interface TraceContext {
  /** 32 lower-case hex digits, never all zeros. */
  readonly traceId: string;
  /** The edge's span for this request: 16 lower-case hex digits. */
  readonly spanId: string;
  /** The viewer's span (the incoming `traceparent`'s parent id), or null when the trace starts here. */
  readonly parentSpanId: string | null;
  /** The sampled flag, as received or as the edge decided for a new trace. */
  readonly sampled: boolean;
  /** The viewer's `tracestate`, passed through untouched; null without one. */
  readonly traceState: string | null;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** Parses a `traceparent` value; null when it is not one this edge may continue. */
export function parseTraceparent(
  value: string | undefined,
): { traceId: string; parentSpanId: string; sampled: boolean } | null {
  if (value === undefined || value.length < 55 || value.length > 512) return null;
  const match = TRACEPARENT.exec(value.trim());
  if (match === null) return null;
  const [, version, traceId, parentSpanId, flags, rest] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  // Version ff is invalid; version 00 has exactly four fields. Later versions may add fields.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return null;
  if (traceId === ZERO_TRACE || parentSpanId === ZERO_SPAN) return null;
  return { traceId, parentSpanId, sampled: (parseInt(flags, 16) & 1) === 1 };
}

/**
 * The request's trace: the viewer's continued, or a new one (sampled as `sampleNew` says).
 * `traceState` longer than 512 characters is dropped, as the spec allows.
 */
export function traceContextFor(
  traceparent: string | undefined,
  tracestate: string | undefined,
  sampleNew: boolean,
): TraceContext {
  const parent = parseTraceparent(traceparent);
  const spanId = randomHex(8);
  if (parent === null)
    return { traceId: randomHex(16), spanId, parentSpanId: null, sampled: sampleNew, traceState: null };
  return {
    traceId: parent.traceId,
    spanId,
    parentSpanId: parent.parentSpanId,
    sampled: parent.sampled,
    traceState: tracestate !== undefined && tracestate.length <= 512 ? tracestate : null,
  };
}

/** The `traceparent` the origin gets: same trace, the edge's span as its parent. */
export function formatTraceparent(trace: TraceContext): string {
  return `00-${trace.traceId}-${trace.spanId}-${trace.sampled ? '01' : '00'}`;
}

const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let poolOffset = POOL_BYTES;

/** `bytes` random bytes as hex, never all zeros (the spec forbids all-zero ids). */
export function randomHex(bytes: number): string {
  for (;;) {
    if (poolOffset + bytes > POOL_BYTES) {
      randomFillSync(pool);
      poolOffset = 0;
    }
    const hex = pool.toString('hex', poolOffset, poolOffset + bytes);
    poolOffset += bytes;
    if (!/^0+$/.test(hex)) return hex;
  }
}
