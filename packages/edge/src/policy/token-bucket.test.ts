import { describe, expect, it } from 'vitest';
import { FakeTimers } from '../test-support/fake-timers.js';
import { TokenBuckets } from './token-bucket.js';

/** Where these tests' clock starts. */
const T0 = 1_700_000_000_000;

function takeTimes(buckets: TokenBuckets, key: string, n: number): number {
  let ok = 0;
  for (let i = 0; i < n; i++) if (buckets.take(key).ok) ok++;
  return ok;
}

describe('TokenBuckets', () => {
  it('allows a burst of N, then refuses with Retry-After', () => {
    const clock = new FakeTimers(T0);
    const buckets = new TokenBuckets({ rate: { count: 5, perMs: 1_000 }, clock });
    expect(takeTimes(buckets, 'a', 5)).toBe(5);
    expect(buckets.take('a')).toEqual({ ok: false, retryAfterSeconds: 1 });
  });

  it('refills continuously at the rate', () => {
    const clock = new FakeTimers(T0);
    const buckets = new TokenBuckets({ rate: { count: 10, perMs: 1_000 }, clock });
    expect(takeTimes(buckets, 'a', 10)).toBe(10);
    expect(buckets.take('a').ok).toBe(false);
    clock.advance(100);
    expect(buckets.take('a').ok).toBe(true);
    expect(buckets.take('a').ok).toBe(false);
    clock.advance(350);
    expect(takeTimes(buckets, 'a', 10)).toBe(3);
  });

  it('never refills past the burst', () => {
    const clock = new FakeTimers(T0);
    const buckets = new TokenBuckets({ rate: { count: 3, perMs: 1_000 }, clock });
    buckets.take('a');
    clock.advance(60_000);
    expect(takeTimes(buckets, 'a', 10)).toBe(3);
  });

  it('computes Retry-After from the time the next token needs, for per-minute rates', () => {
    const clock = new FakeTimers(T0);
    const buckets = new TokenBuckets({ rate: { count: 6, perMs: 60_000 }, clock });
    expect(takeTimes(buckets, 'a', 6)).toBe(6);
    expect(buckets.take('a')).toEqual({ ok: false, retryAfterSeconds: 10 });
    clock.advance(4_500);
    expect(buckets.take('a')).toEqual({ ok: false, retryAfterSeconds: 6 });
    clock.advance(5_500);
    expect(buckets.take('a')).toEqual({ ok: true });
  });

  it('keeps clients apart', () => {
    const clock = new FakeTimers(T0);
    const buckets = new TokenBuckets({ rate: { count: 1, perMs: 1_000 }, clock });
    expect(buckets.take('a').ok).toBe(true);
    expect(buckets.take('a').ok).toBe(false);
    expect(buckets.take('b').ok).toBe(true);
  });

  it('does not drain or overfill when the clock steps backwards', () => {
    const clock = new FakeTimers(T0);
    const buckets = new TokenBuckets({ rate: { count: 2, perMs: 1_000 }, clock });
    buckets.take('a');
    clock.advance(-10_000);
    expect(takeTimes(buckets, 'a', 5)).toBe(1);
  });

  it('tracks at most maxKeys clients, evicting the least recently used', () => {
    const clock = new FakeTimers(T0);
    const buckets = new TokenBuckets({ rate: { count: 1, perMs: 60_000 }, clock, maxKeys: 3 });
    for (const key of ['a', 'b', 'c']) buckets.take(key);
    buckets.take('a'); // a is now the most recent; b the least
    buckets.take('d');
    expect(buckets.size).toBe(3);
    // b was forgotten, so it starts over with a full bucket; a and d were kept, still empty.
    expect(buckets.take('b').ok).toBe(true);
    expect(buckets.take('d').ok).toBe(false);
  });

  it('keeps memory bounded under an address-rotating flood', () => {
    const clock = new FakeTimers(T0);
    const buckets = new TokenBuckets({ rate: { count: 1, perMs: 1_000 }, clock });
    for (let i = 0; i < 50_000; i++) buckets.take(`10.0.${i >> 8}.${i & 255}-${i}`);
    expect(buckets.size).toBe(10_000);
  });

  it('accepts a custom burst and refuses nonsense rates', () => {
    const clock = new FakeTimers(T0);
    const buckets = new TokenBuckets({ rate: { count: 100, perMs: 1_000 }, clock, burst: 2 });
    expect(takeTimes(buckets, 'a', 5)).toBe(2);
    expect(() => new TokenBuckets({ rate: { count: 0, perMs: 1_000 }, clock })).toThrow(RangeError);
    expect(() => new TokenBuckets({ rate: { count: 1, perMs: 1_000 }, clock, burst: 0.5 })).toThrow(
      RangeError,
    );
  });
});
