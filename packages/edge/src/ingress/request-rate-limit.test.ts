import { describe, expect, it } from 'vitest';
import { EDGE_RATE_LIMITED, ViewerRateLimit } from './request-rate-limit.js';

function fakeClock(start = 1_000_000): { now(): number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('ViewerRateLimit', () => {
  it('allows a burst of the per-second rate, then refuses with 429, the code and Retry-After', () => {
    const clock = fakeClock();
    const limit = new ViewerRateLimit({ perSecond: 3, clock });
    for (let i = 0; i < 3; i++) expect(limit.take('198.51.100.7')).toBeNull();
    const refusal = limit.take('198.51.100.7');
    expect(refusal?.page.status).toBe(429);
    expect(refusal?.page.code).toBe(EDGE_RATE_LIMITED);
    expect(refusal?.retryAfterSeconds).toBe(1);
    expect(refusal?.page.retryAfterSeconds).toBe(1);
    expect(refusal?.page.detail).toMatch(/3 requests per second/);
  });

  it('refills with time', () => {
    const clock = fakeClock();
    const limit = new ViewerRateLimit({ perSecond: 2, clock });
    limit.take('a');
    limit.take('a');
    expect(limit.take('a')).not.toBeNull();
    clock.advance(500);
    expect(limit.take('a')).toBeNull();
    expect(limit.take('a')).not.toBeNull();
  });

  it('shares one bucket across an IPv6 /64 and keeps addresses apart otherwise', () => {
    const limit = new ViewerRateLimit({ perSecond: 1, clock: fakeClock() });
    expect(limit.take('2001:db8::1')).toBeNull();
    expect(limit.take('2001:db8::2')).not.toBeNull();
    expect(limit.take('192.0.2.1')).toBeNull();
    expect(limit.take('::ffff:192.0.2.1')).not.toBeNull();
  });

  it('is off at 0 and tracks nothing', () => {
    const limit = new ViewerRateLimit({ perSecond: 0, clock: fakeClock() });
    for (let i = 0; i < 100; i++) expect(limit.take('a')).toBeNull();
    expect(limit.size).toBe(0);
  });

  it('bounds tracked addresses when they rotate', () => {
    const limit = new ViewerRateLimit({ perSecond: 5, clock: fakeClock(), maxKeys: 100 });
    for (let i = 0; i < 1000; i++) limit.take(`10.0.${i >> 8}.${i & 255}`);
    expect(limit.size).toBe(100);
  });
});
