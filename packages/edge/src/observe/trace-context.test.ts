import { describe, expect, it } from 'vitest';
import { formatTraceparent, parseTraceparent, randomHex, traceContextFor } from './trace-context.js';

const VALID = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('trace context', () => {
  it('continues a valid traceparent with a new span of its own', () => {
    const trace = traceContextFor(VALID, 'congo=t61rcWkgMzE', false);
    expect(trace.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(trace.parentSpanId).toBe('b7ad6b7169203331');
    expect(trace.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(trace.spanId).not.toBe('b7ad6b7169203331');
    expect(trace.sampled).toBe(true);
    expect(trace.traceState).toBe('congo=t61rcWkgMzE');
    expect(formatTraceparent(trace)).toBe(`00-0af7651916cd43dd8448eb211c80319c-${trace.spanId}-01`);
  });

  it.each([
    ['missing', undefined],
    ['upper case', VALID.toUpperCase()],
    ['version ff', `ff${VALID.slice(2)}`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-b7ad6b7169203331-01`],
    ['all-zero parent', `00-0af7651916cd43dd8448eb211c80319c-${'0'.repeat(16)}-01`],
    ['version 00 with extra fields', `${VALID}-extra`],
    ['short', '00-0af7651916cd43dd-b7ad6b7169203331-01'],
  ])('starts a new trace when the traceparent is %s, and drops its tracestate', (_what, header) => {
    const trace = traceContextFor(header, 'a=b', true);
    expect(trace.parentSpanId).toBeNull();
    expect(trace.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(trace.traceId).not.toBe('0af7651916cd43dd8448eb211c80319c');
    expect(trace.sampled).toBe(true);
    expect(trace.traceState).toBeNull();
  });

  it('accepts a later version with more fields', () => {
    expect(parseTraceparent(`01${VALID.slice(2)}-what-comes-next`)?.traceId).toBe(
      '0af7651916cd43dd8448eb211c80319c',
    );
  });

  it('never repeats ids across many draws', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) seen.add(randomHex(8));
    expect(seen.size).toBe(5000);
  });
});
