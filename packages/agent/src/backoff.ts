/**
 * Reconnect delays: exponential growth from `initialDelayMs` by `multiplier`, capped at
 * `maxDelayMs`, with symmetric jitter so a fleet of agents cut off by one edge restart does
 * not reconnect in lock-step. Pure arithmetic over an injected random source.
 */

export interface BackoffPolicy {
  /** Delay before the first retry, in ms. */
  readonly initialDelayMs: number;
  /** No delay is ever longer than this, jitter included, in ms. */
  readonly maxDelayMs: number;
  /** Growth factor between consecutive delays (>= 1). */
  readonly multiplier: number;
  /** Fraction in [0, 1]: each delay is scaled by a factor drawn from [1 - jitter, 1 + jitter]. */
  readonly jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  initialDelayMs: 200,
  maxDelayMs: 15_000,
  multiplier: 2,
  jitter: 0.2,
};

/** Returns a number in [0, 1), like Math.random. */
export type RandomSource = () => number;

/** Not shared between loops: each reconnect loop owns one and calls `next()` per failure. */
export class Backoff {
  private readonly policy: BackoffPolicy;
  private readonly random: RandomSource;
  private failures = 0;

  constructor(policy: BackoffPolicy, random: RandomSource = Math.random) {
    this.policy = policy;
    this.random = random;
  }

  /** Consecutive delays handed out since the last reset. */
  get attempts(): number {
    return this.failures;
  }

  /** The delay before the next attempt, in whole ms; each call grows the next one. */
  next(): number {
    const { initialDelayMs, maxDelayMs, multiplier, jitter } = this.policy;
    // The exponent stops growing once the cap is reached anyway; bounding it keeps the math finite.
    const base = Math.min(maxDelayMs, initialDelayMs * Math.pow(multiplier, Math.min(this.failures, 64)));
    this.failures += 1;
    const factor = 1 + jitter * (2 * this.random() - 1);
    return Math.max(0, Math.min(maxDelayMs, Math.round(base * factor)));
  }

  /** Called once a session proved stable: the next failure starts from `initialDelayMs` again. */
  reset(): void {
    this.failures = 0;
  }
}
