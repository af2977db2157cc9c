import { describe, expect, it } from 'vitest';
import { FakeTimers } from '../test-support/fake-timers.js';
import { AuthFailures, DEFAULT_AUTH_FAILURE_LIMITS, type BeginResult } from './auth-failures.js';

/** Where these tests' clock starts. */
const T0 = 1_700_000_000_000;

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** One key check from 'ip' the way the endpoints run it: begin, ask the store, settle. */
async function keyCheck(failures: AuthFailures, key: 'good' | 'wrong'): Promise<'good' | 'wrong' | 'locked'> {
  const begun = await failures.begin('ip');
  if (!begun.ok) return 'locked';
  await new Promise((resolve) => setTimeout(resolve, 2));
  if (key === 'good') begun.attempt.succeeded();
  else begun.attempt.failed();
  return key;
}

describe('AuthFailures', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_AUTH_FAILURE_LIMITS).toMatchObject({
      maxFailures: 5,
      windowMs: 60_000,
      cooldownMs: 300_000,
      maxKeys: 10_000,
    });
  });

  it('locks a client out after 5 failures within 60 s, for the cooldown', () => {
    const clock = new FakeTimers(T0);
    const failures = new AuthFailures({ clock });
    for (let i = 1; i <= 4; i++) {
      expect(failures.recordFailure('ip').lockedOut).toBe(false);
      expect(failures.check('ip')).toEqual({ ok: true });
      clock.advance(10_000);
    }
    expect(failures.recordFailure('ip')).toMatchObject({ lockedOut: true, failures: 5 });
    expect(failures.check('ip')).toEqual({ ok: false, retryAfterSeconds: 300 });
    clock.advance(299_500);
    expect(failures.check('ip')).toEqual({ ok: false, retryAfterSeconds: 1 });
    clock.advance(500);
    expect(failures.check('ip')).toEqual({ ok: true });
    // The cooldown wipes the slate: one more failure does not lock again.
    expect(failures.recordFailure('ip')).toMatchObject({ lockedOut: false, failures: 1 });
  });

  it('counts in a sliding window, so slow failures never lock', () => {
    const clock = new FakeTimers(T0);
    const failures = new AuthFailures({ clock });
    for (let i = 0; i < 20; i++) {
      expect(failures.recordFailure('ip').lockedOut).toBe(false);
      clock.advance(15_001);
    }
    expect(failures.check('ip').ok).toBe(true);
  });

  it('slows each further failure down, up to the cap', () => {
    const clock = new FakeTimers(T0);
    const failures = new AuthFailures({ clock, limits: { maxFailures: 10 } });
    const delays = Array.from({ length: 7 }, () => failures.recordFailure('ip').delayMs);
    expect(delays).toEqual([0, 500, 1000, 1500, 2000, 2000, 2000]);
  });

  it('keeps clients apart', () => {
    const clock = new FakeTimers(T0);
    const failures = new AuthFailures({ clock, limits: { maxFailures: 2 } });
    failures.recordFailure('a');
    failures.recordFailure('a');
    expect(failures.check('a').ok).toBe(false);
    expect(failures.check('b').ok).toBe(true);
  });

  it('tracks at most maxKeys clients', () => {
    const clock = new FakeTimers(T0);
    const failures = new AuthFailures({ clock, limits: { maxKeys: 100 } });
    for (let i = 0; i < 5_000; i++) failures.recordFailure(`client-${i}`);
    expect(failures.size).toBe(100);
  });

  it('refuses a threshold below 1', () => {
    expect(() => new AuthFailures({ clock: new FakeTimers(T0), limits: { maxFailures: 0 } })).toThrow(
      RangeError,
    );
  });

  it('counts an attempt before it is verified, so parallel guesses get at most maxFailures checked', async () => {
    const clock = new FakeTimers(T0);
    const failures = new AuthFailures({ clock });
    const outcomes = await Promise.all(Array.from({ length: 200 }, () => keyCheck(failures, 'wrong')));
    expect(outcomes.filter((o) => o === 'wrong')).toHaveLength(5);
    expect(outcomes.filter((o) => o === 'locked')).toHaveLength(195);
    expect(failures.check('ip')).toEqual({ ok: false, retryAfterSeconds: 300 });
  });

  it('lets parallel checks of a good key wait for a slot instead of refusing them', async () => {
    const clock = new FakeTimers(T0);
    const failures = new AuthFailures({ clock });
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => keyCheck(failures, 'good')));
    expect(outcomes).toEqual(Array.from({ length: 10 }, () => 'good'));
    // ... while 60 parallel wrong keys still get at most maxFailures verified.
    const wrong = await Promise.all(Array.from({ length: 60 }, () => keyCheck(failures, 'wrong')));
    expect(wrong.filter((o) => o === 'wrong')).toHaveLength(5);
    expect(wrong.filter((o) => o === 'locked')).toHaveLength(55);
  });

  it('refuses the waiting checks once the failures in flight lock the address out', async () => {
    const clock = new FakeTimers(T0);
    const failures = new AuthFailures({ clock });
    const wrong = Array.from({ length: 5 }, () => keyCheck(failures, 'wrong'));
    const good = Array.from({ length: 5 }, () => keyCheck(failures, 'good'));
    expect(await Promise.all(wrong)).toEqual(['wrong', 'wrong', 'wrong', 'wrong', 'wrong']);
    expect(await Promise.all(good)).toEqual(['locked', 'locked', 'locked', 'locked', 'locked']);
  });

  it('gives an attempt back when it succeeds, and counts it once however often it is settled', async () => {
    const clock = new FakeTimers(T0);
    const failures = new AuthFailures({ clock, limits: { maxFailures: 2 } });
    const first = await failures.begin('ip');
    const second = await failures.begin('ip');
    let third: BeginResult | null = null;
    void failures.begin('ip').then((b) => (third = b));
    await settle();
    expect(third).toBeNull();
    if (!first.ok || !second.ok) throw new Error('expected two admitted attempts');
    first.attempt.succeeded();
    first.attempt.failed();
    await settle();
    expect(third).toMatchObject({ ok: true });
    expect(second.attempt.failed()).toMatchObject({ failures: 1, lockedOut: false });
  });
});
