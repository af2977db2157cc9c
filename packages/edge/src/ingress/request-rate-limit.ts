/**
 * `limits.requestsPerSecondPerIp`: one token bucket per client address across every
 * tunnel, taken before a request or upgrade is routed, so one client cannot flood the
 * edge by spreading requests over many tunnel names. Per-tunnel `--rate-limit` (policy)
 * still applies on top.
 */

import { ERROR_CATALOG, type Clock, type ErrorCode } from '@burrow/protocol';
import { TokenBuckets } from '../policy/token-bucket.js';
import type { ErrorPage } from './error-page.js';
import { viewerKey } from './viewer-key.js';

/** The stable code in `X-Burrow-Error` on the refusal. */
export const EDGE_RATE_LIMITED = 'EDGE_RATE_LIMITED' satisfies ErrorCode;

export interface ViewerRateLimitOptions {
  /** Requests per second per client key; the burst is the same number. 0 turns the limit off. */
  perSecond: number;
  clock: Clock;
  /** Most client keys tracked (LRU); default the token bucket's 10,000. */
  maxKeys?: number;
}

/** A refusal: the page to show and how long the client should wait. */
export interface RateRefusal {
  page: ErrorPage;
  retryAfterSeconds: number;
}

export class ViewerRateLimit {
  readonly #buckets: TokenBuckets | null;
  readonly #perSecond: number;

  constructor(options: ViewerRateLimitOptions) {
    this.#perSecond = options.perSecond;
    this.#buckets =
      options.perSecond > 0
        ? new TokenBuckets({
            rate: { count: options.perSecond, perMs: 1000 },
            clock: options.clock,
            maxKeys: options.maxKeys,
          })
        : null;
  }

  /** Client keys currently tracked (bounded by `maxKeys`). */
  get size(): number {
    return this.#buckets?.size ?? 0;
  }

  /** Counts one request from `remoteAddress`; null when it may go on. */
  take(remoteAddress: string | undefined): RateRefusal | null {
    if (this.#buckets === null) return null;
    const taken = this.#buckets.take(viewerKey(remoteAddress));
    if (taken.ok) return null;
    const { retryAfterSeconds } = taken;
    return {
      retryAfterSeconds,
      page: {
        status: ERROR_CATALOG[EDGE_RATE_LIMITED].status,
        code: EDGE_RATE_LIMITED,
        title: 'Too many requests',
        detail:
          `This edge accepts ${this.#perSecond} requests per second from each address, ` +
          `and yours sent more. Retry in ${retryAfterSeconds} s.`,
        retryAfterSeconds,
      },
    };
  }
}
