/** Time as an injected dependency, so tests can drive keepalives and timeouts. */

/** Reading the time only: what limiters, stores and grace checks need. */
export interface Clock {
  /** Milliseconds since the epoch; `Date.now` in production. */
  now(): number;
}

/** A clock that can also schedule: sessions, timeouts, periodic jobs. */
export interface Timers extends Clock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

/** Real timers, unref'd: a pending keepalive never keeps a process alive on its own. */
export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

/**
 * Monotonic milliseconds with fractions, for intervals only (never dates): the timing of one
 * exchange (edge, tunnel, origin) is sub-millisecond on loopback, finer than `Clock.now`.
 */
export type Stopwatch = () => number;

export const realStopwatch: Stopwatch = () => performance.now();
