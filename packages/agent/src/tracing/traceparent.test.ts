import { describe, expect, it } from 'vitest';
import { formatTraceparent, newSpanId, parseTraceparent, traceparentIndex } from './traceparent.js';

describe('traceparent in the agent', () => {
  it('reads what the edge sends', () => {
    expect(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      parentSpanId: '00f067aa0ba902b7',
      sampled: true,
    });
    expect(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00')?.sampled).toBe(false);
  });

  it.each([undefined, '', 'garbage', '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x'])(
    'ignores %s',
    (value) => {
      expect(parseTraceparent(value)).toBeNull();
    },
  );

  it('formats, draws 16-hex span ids and finds the header whatever its case', () => {
    expect(formatTraceparent('a'.repeat(32), 'b'.repeat(16), true)).toBe(
      `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
    );
    expect(newSpanId()).toMatch(/^[0-9a-f]{16}$/);
    expect(newSpanId()).not.toBe(newSpanId());
    expect(traceparentIndex(['Host', 'x', 'TraceParent', 'v'])).toBe(3);
    expect(traceparentIndex(['Host', 'x'])).toBe(-1);
  });
});
