/**
 * The behaviour every Registry must have. An implementation's test calls
 * `runRegistryContract` with a function that opens a fresh, empty registry on the given
 * timers; nothing here knows which implementation it is.
 *
 * Time moves only through `timers.advance`, so grace periods and waiter timeouts are exact.
 * Targets are compared by `sessionId`, not identity, so an implementation that hands back
 * its own view of a target (a registry shared between edges) can run the suite too. The
 * request path reads `lookup`, `graceUntil` and `waiting` synchronously; only `waitFor` is
 * a promise, and the suite awaits it without assuming it settles in the same turn.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeTimers } from '../test-support/fake-timers.js';
import type { Registry } from './registry.js';
import { stubTarget } from './test-support/stub-target.js';

export interface OpenedRegistry {
  registry: Registry;
  /** Releases whatever the implementation holds (connections, timers); called after each test. */
  close(): Promise<void>;
}

export type OpenRegistryForContract = (context: { timers: FakeTimers }) => Promise<OpenedRegistry>;

/** Where every contract test's clock starts. */
const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);
const GRACE_MS = 30_000;

const target = stubTarget;

/** The settled value of `promise`, or 'pending' if it has not settled after the queued work ran. */
async function state<T>(promise: Promise<T>): Promise<T | 'pending'> {
  const pending = Symbol('pending');
  const raced = await Promise.race([promise, new Promise<symbol>((r) => setImmediate(() => r(pending)))]);
  return raced === pending ? 'pending' : (raced as T);
}

export function runRegistryContract(name: string, open: OpenRegistryForContract): void {
  describe(`Registry contract: ${name}`, () => {
    let timers: FakeTimers;
    let opened: OpenedRegistry;
    let registry: Registry;

    beforeEach(async () => {
      timers = new FakeTimers(T0);
      opened = await open({ timers });
      registry = opened.registry;
    });

    afterEach(async () => {
      await opened.close();
    });

    describe('bind, lookup, unbind', () => {
      it('starts empty', () => {
        expect(registry.lookup('app')).toBeUndefined();
        expect(registry.names()).toEqual([]);
        expect(registry.graceUntil('app')).toBe(0);
        expect(registry.waiting).toBe(0);
      });

      it('finds a bound name and lists it', () => {
        registry.bind('app', target('a'));
        registry.bind('api', target('b'));
        expect(registry.lookup('app')?.sessionId).toBe('a');
        expect(registry.lookup('api')?.sessionId).toBe('b');
        expect(registry.lookup('other')).toBeUndefined();
        expect([...registry.names()].sort()).toEqual(['api', 'app']);
      });

      it('replaces the holder when another target binds the name', () => {
        registry.bind('app', target('old'));
        registry.bind('app', target('new'));
        expect(registry.lookup('app')?.sessionId).toBe('new');
        expect(registry.names()).toEqual(['app']);
      });

      it('unbinds a name its holder releases, leaving it reconnecting until the grace ends', () => {
        const a = target('a');
        registry.bind('app', a);
        registry.unbind('app', a, T0 + GRACE_MS);
        expect(registry.lookup('app')).toBeUndefined();
        expect(registry.names()).toEqual([]);
        expect(registry.graceUntil('app')).toBe(T0 + GRACE_MS);
      });

      it('ignores an unbind from a target that no longer holds the name', () => {
        const old = target('old');
        registry.bind('app', old);
        registry.bind('app', target('new'));
        registry.unbind('app', old, T0 + GRACE_MS);
        expect(registry.lookup('app')?.sessionId).toBe('new');
        expect(registry.graceUntil('app')).toBe(0);
      });

      it('ignores an unbind of a name never bound', () => {
        registry.unbind('app', target('a'), T0 + GRACE_MS);
        expect(registry.lookup('app')).toBeUndefined();
        expect(registry.graceUntil('app')).toBe(0);
      });
    });

    describe('grace', () => {
      it('gives no grace for an unbind without one (a deliberate UNBIND)', () => {
        const a = target('a');
        registry.bind('app', a);
        registry.unbind('app', a, 0);
        expect(registry.graceUntil('app')).toBe(0);
      });

      it('ends the grace at its deadline', () => {
        const a = target('a');
        registry.bind('app', a);
        registry.unbind('app', a, T0 + GRACE_MS);
        timers.advance(GRACE_MS - 1);
        expect(registry.graceUntil('app')).toBe(T0 + GRACE_MS);
        timers.advance(1);
        expect(registry.graceUntil('app')).toBe(0);
      });

      it('ends the grace when the name is bound again', () => {
        const a = target('a');
        registry.bind('app', a);
        registry.unbind('app', a, T0 + GRACE_MS);
        registry.bind('app', target('b'));
        expect(registry.graceUntil('app')).toBe(0);
      });

      it('expects a name back (after an edge restart) and keeps the later of two deadlines', () => {
        registry.expect('app', T0 + GRACE_MS);
        expect(registry.graceUntil('app')).toBe(T0 + GRACE_MS);
        registry.expect('app', T0 + 1_000);
        expect(registry.graceUntil('app')).toBe(T0 + GRACE_MS);
        registry.expect('app', T0 + 2 * GRACE_MS);
        expect(registry.graceUntil('app')).toBe(T0 + 2 * GRACE_MS);
        expect(registry.lookup('app')).toBeUndefined();
        expect(registry.names()).toEqual([]);
      });

      it('does not put a live name into grace', () => {
        registry.bind('app', target('a'));
        registry.expect('app', T0 + GRACE_MS);
        expect(registry.graceUntil('app')).toBe(0);
        expect(registry.lookup('app')?.sessionId).toBe('a');
      });
    });

    describe('waiters', () => {
      it('answers at once, without waiting, for a bound name', async () => {
        registry.bind('app', target('a'));
        const found = registry.waitFor('app', GRACE_MS);
        expect(registry.waiting).toBe(0);
        expect((await found)?.sessionId).toBe('a');
      });

      it('wakes every waiter for a name when it is bound, and only those', async () => {
        const first = registry.waitFor('app', GRACE_MS);
        const second = registry.waitFor('app', GRACE_MS);
        const other = registry.waitFor('api', GRACE_MS);
        expect(registry.waiting).toBe(3);
        registry.bind('app', target('b'));
        expect((await first)?.sessionId).toBe('b');
        expect((await second)?.sessionId).toBe('b');
        expect(await state(other)).toBe('pending');
        expect(registry.waiting).toBe(1);
        timers.advance(GRACE_MS);
        expect(await other).toBeUndefined();
        expect(registry.waiting).toBe(0);
      });

      it('gives up at the timeout, and a later bind does not revive it', async () => {
        const waiting = registry.waitFor('app', 5_000);
        timers.advance(4_999);
        expect(await state(waiting)).toBe('pending');
        timers.advance(1);
        expect(await waiting).toBeUndefined();
        expect(registry.waiting).toBe(0);
        registry.bind('app', target('a'));
        expect(registry.waiting).toBe(0);
      });

      it('leaves other waiters for the name alone when one times out', async () => {
        const short = registry.waitFor('app', 1_000);
        const long = registry.waitFor('app', GRACE_MS);
        timers.advance(1_000);
        expect(await short).toBeUndefined();
        registry.bind('app', target('a'));
        expect((await long)?.sessionId).toBe('a');
        expect(registry.waiting).toBe(0);
      });

      it('gives up when the viewer aborts, leaving other waiters alone', async () => {
        const abort = new AbortController();
        const leaving = registry.waitFor('app', GRACE_MS, abort.signal);
        const staying = registry.waitFor('app', GRACE_MS);
        abort.abort();
        expect(await leaving).toBeUndefined();
        expect(registry.waiting).toBe(1);
        registry.bind('app', target('a'));
        expect((await staying)?.sessionId).toBe('a');
        expect(registry.waiting).toBe(0);
      });

      it('does not wait at all on a signal that is already aborted', async () => {
        const abort = new AbortController();
        abort.abort();
        const waiting = registry.waitFor('app', GRACE_MS, abort.signal);
        expect(registry.waiting).toBe(0);
        expect(await state(waiting)).toBeUndefined();
      });

      it('is not woken by an unbind, nor by an abort after it was answered', async () => {
        const a = target('a');
        registry.bind('app', a);
        registry.unbind('app', a, T0 + GRACE_MS);
        const abort = new AbortController();
        const waiting = registry.waitFor('app', GRACE_MS, abort.signal);
        registry.unbind('app', a, T0 + GRACE_MS);
        expect(await state(waiting)).toBe('pending');
        registry.bind('app', target('b'));
        expect((await waiting)?.sessionId).toBe('b');
        abort.abort();
        expect(registry.waiting).toBe(0);
      });
    });
  });
}
