/**
 * The W3C `traceparent` the agent reads from OPEN (the edge always sends one) and the one it
 * sends the origin when it exports its own span. Only what the agent needs: the edge already
 * validated the viewer's header, so a value this does not parse is passed on untouched.
 */

import { randomBytes } from 'node:crypto';

export interface TraceParent {
  readonly traceId: string;
  /** The caller's span: the edge's. */
  readonly parentSpanId: string;
  readonly sampled: boolean;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** Version 00 only, as the edge formats it; null for anything else. */
export function parseTraceparent(value: string | undefined): TraceParent | null {
  if (value === undefined) return null;
  const match = TRACEPARENT.exec(value);
  if (match === null) return null;
  return {
    traceId: match[1]!,
    parentSpanId: match[2]!,
    sampled: (parseInt(match[3]!, 16) & 1) === 1,
  };
}

export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}

/** A span id: 8 random bytes as hex, never all zeros (the spec forbids it). */
export function newSpanId(): string {
  for (;;) {
    const id = randomBytes(8).toString('hex');
    if (id !== '0000000000000000') return id;
  }
}

/** Index of the first `traceparent` value in a flat header list, or -1. */
export function traceparentIndex(headers: readonly string[]): number {
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.length === 11 && name.toLowerCase() === 'traceparent') return i + 1;
  }
  return -1;
}
