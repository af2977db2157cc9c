/**
 * Per-key token buckets (one per client) for `--rate-limit N/s` and `N/m`: each bucket
 * holds up to `burst` tokens, refills continuously at the configured rate, and every
 * request takes one. Memory is bounded by evicting the least recently used key; an
 * evicted client simply starts again with a full bucket.
 */

import type { Clock } from '@burrow/protocol';
import { LruMap } from './lru-map.js';

export interface Rate {
  /** Requests allowed per `perMs`, 1..100000. */
  readonly count: number;
  /** Length of the period in ms: 1000 for `/s`, 60000 for `/m`. */
  readonly perMs: number;
}

export type TakeResult = { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number };

export interface TokenBucketsOptions {
  rate: Rate;
  clock: Clock;
  /** Most tokens a bucket holds, i.e. the largest burst; default `max(rate.count, 1)`. */
  burst?: number;
  /** Most keys tracked at once; default 10,000. */
  maxKeys?: number;
}

export const DEFAULT_MAX_TRACKED_CLIENTS = 10_000;

interface Bucket {
  tokens: number;
  /** Clock time of the last refill, ms. */
  at: number;
}

const OK: TakeResult = { ok: true };

export class TokenBuckets {
  readonly rate: Rate;
  readonly burst: number;
  readonly #clock: Clock;
  readonly #buckets: LruMap<string, Bucket>;

  constructor(options: TokenBucketsOptions) {
    const { rate } = options;
    if (!(rate.count > 0) || !(rate.perMs > 0))
      throw new RangeError('rate count and period must be positive');
    this.rate = rate;
    this.burst = options.burst ?? Math.max(rate.count, 1);
    if (!(this.burst >= 1)) throw new RangeError('burst must be at least 1');
    this.#clock = options.clock;
    this.#buckets = new LruMap(options.maxKeys ?? DEFAULT_MAX_TRACKED_CLIENTS);
  }

  /** Keys currently tracked (for tests and metrics). */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Takes one token from `key`'s bucket. When it is empty, says how many whole seconds
   * until a token is back (at least 1, the smallest `Retry-After` that means "later").
   */
  take(key: string): TakeResult {
    const now = this.#clock.now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.burst, at: now };
    // A clock stepping backwards must not drain or overfill the bucket.
    const elapsed = Math.max(0, now - bucket.at);
    bucket.tokens = Math.min(this.burst, bucket.tokens + (elapsed * this.rate.count) / this.rate.perMs);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return OK;
    }
    const waitMs = ((1 - bucket.tokens) * this.rate.perMs) / this.rate.count;
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  }
}
