import { describe, expect, it } from 'vitest';
import { BodyCapture } from './exchange-capture.js';
import {
  recordHost,
  recordPath,
  recordTiming,
  redactedHeaders,
  serverTimingValue,
} from './exchange-record.js';

describe('record timing', () => {
  const steps = { arrivedAt: 100, openedAt: 100.5, headAt: 130.5, originMs: 20 };

  it('splits OPEN to HEAD into the tunnel and the origin, and totals from the head arrival', () => {
    expect(recordTiming(steps, 150)).toEqual({ edgeMs: 0.5, tunnelMs: 10, originMs: 20, totalMs: 50 });
  });

  it('clamps the tunnel at 0 when the origin claims more than the round trip (two clocks)', () => {
    expect(recordTiming({ ...steps, originMs: 45 }, 150).tunnelMs).toBe(0);
  });

  it("never takes more origin time than the round trip the edge measured (an agent's 1e300 is 30)", () => {
    expect(recordTiming({ ...steps, originMs: 1e300 }, 150)).toMatchObject({ tunnelMs: 0, originMs: 30 });
    expect(serverTimingValue({ ...steps, originMs: 1e300 })).toBe(
      'edge;dur=0.5, tunnel;dur=0, origin;dur=30',
    );
  });

  it('has no stream times for a request that never opened one, nor head times without a head', () => {
    expect(recordTiming({ arrivedAt: 5, openedAt: NaN, headAt: NaN, originMs: null }, 7)).toEqual({
      edgeMs: null,
      tunnelMs: null,
      originMs: null,
      totalMs: 2,
    });
    expect(recordTiming({ ...steps, headAt: NaN }, 150)).toMatchObject({ tunnelMs: null, originMs: null });
  });

  it('writes Server-Timing with one decimal, the origin only when known', () => {
    expect(serverTimingValue({ arrivedAt: 0, openedAt: 0.04, headAt: 31.26, originMs: 12.25 })).toBe(
      'edge;dur=0, tunnel;dur=19, origin;dur=12.3',
    );
    expect(serverTimingValue({ arrivedAt: 0, openedAt: 1.25, headAt: 3, originMs: null })).toBe(
      'edge;dur=1.3, tunnel;dur=1.8',
    );
  });
});

describe('recorded path and host', () => {
  it('drops the query only when asked, hides a burrow_token value, cuts at 2,048', () => {
    expect(recordPath('/a?b=1', true)).toBe('/a?b=1');
    expect(recordPath('/a?b=1', false)).toBe('/a');
    expect(recordPath('/a?x=1&burrow_token=abc&y=2', true)).toBe('/a?x=1&burrow_token=***&y=2');
    expect(recordPath(`/${'x'.repeat(5000)}`, true)).toHaveLength(2048);
  });

  it('cuts a host at 255 characters', () => {
    expect(recordHost('a'.repeat(300))).toHaveLength(255);
    expect(recordHost('demo.example.com')).toBe('demo.example.com');
  });

  it('redacts header values by name, case-insensitively, on a copy', () => {
    const headers = ['Authorization', 'Bearer x', 'X-Ok', '1', 'COOKIE', 'a=1'];
    expect(redactedHeaders(headers, new Set(['authorization', 'cookie']))).toEqual([
      'Authorization',
      '***',
      'X-Ok',
      '1',
      'COOKIE',
      '***',
    ]);
    expect(headers[1]).toBe('Bearer x');
  });
});

describe('BodyCapture', () => {
  it('keeps copies of the first maxBytes and flags the rest as cut', () => {
    const capture = new BodyCapture(5);
    const first = Buffer.from('abc');
    capture.add(first);
    first.fill(0x7a);
    capture.add(Buffer.from('defg'));
    capture.add(Buffer.from('h'));
    expect(capture.bytes()?.toString()).toBe('abcde');
    expect(capture.truncated).toBe(true);
  });

  it('is null for no bytes and not cut at exactly maxBytes', () => {
    expect(new BodyCapture(4).bytes()).toBeNull();
    const exact = new BodyCapture(4);
    exact.add(Buffer.from('abcd'));
    exact.add(Buffer.alloc(0));
    expect(exact.truncated).toBe(false);
    expect(exact.bytes()?.toString()).toBe('abcd');
  });
});
