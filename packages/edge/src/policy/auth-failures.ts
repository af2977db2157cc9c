/**
 * Brute-force protection for tunnel passwords and tokens: failed attempts are counted per
 * client in a sliding window. Each failure slows the next answer a little; after
 * `maxFailures` within `windowMs` the client is locked out for `cooldownMs`, during which
 * its attempts are refused with 429 before any credential is compared. Memory is bounded
 * like the rate limiter's (least recently used client evicted first).
 *
 * A success does not clear the count: behind a shared NAT, a legitimate user's steady
 * successes would otherwise keep resetting an attacker's counter. Failures simply age out.
 */

import { TunnelError } from '@burrow/protocol';
import type { Clock } from './clock.js';
import { LruMap } from './lru-map.js';
import { DEFAULT_MAX_TRACKED_CLIENTS, type TakeResult } from './token-bucket.js';

export interface AuthFailureLimits {
  /** Failures within the window that trigger a lockout; default 5. */
  maxFailures: number;
  /** Sliding window the failures are counted in, ms; default 60 s. */
  windowMs: number;
  /** How long a locked-out client is refused, ms; default 5 minutes. */
  cooldownMs: number;
  /** Extra delay per earlier failure in the window before answering 401, ms; default 500. */
  slowdownStepMs: number;
  /** Cap on that delay, ms; default 2 s (each delayed answer holds a socket open). */
  maxSlowdownMs: number;
  /** Most clients tracked; default 10,000. */
  maxKeys: number;
}

export const DEFAULT_AUTH_FAILURE_LIMITS: Readonly<AuthFailureLimits> = Object.freeze({
  maxFailures: 5,
  windowMs: 60_000,
  cooldownMs: 300_000,
  slowdownStepMs: 500,
  maxSlowdownMs: 2_000,
  maxKeys: DEFAULT_MAX_TRACKED_CLIENTS,
});

export interface FailureOutcome {
  /** Failures in the window including this one. */
  readonly failures: number;
  /** True if this failure started a lockout. */
  readonly lockedOut: boolean;
  /** How long the caller should wait before answering this failure, ms. */
  readonly delayMs: number;
}

interface ClientState {
  /** Times of failures inside the window, oldest first; never longer than maxFailures. */
  failures: number[];
  /** Clock time the lockout ends; 0 when not locked out. */
  lockedUntil: number;
}

export class AuthFailures {
  readonly limits: Readonly<AuthFailureLimits>;
  readonly #clock: Clock;
  readonly #clients: LruMap<string, ClientState>;

  constructor(options: { clock: Clock; limits?: Partial<AuthFailureLimits> }) {
    this.limits = { ...DEFAULT_AUTH_FAILURE_LIMITS, ...options.limits };
    if (!Number.isInteger(this.limits.maxFailures) || this.limits.maxFailures < 1) {
      throw new RangeError('maxFailures must be a positive integer');
    }
    this.#clock = options.clock;
    this.#clients = new LruMap(this.limits.maxKeys);
  }

  /** Clients currently tracked (for tests and metrics). */
  get size(): number {
    return this.#clients.size;
  }

  /** The gate, checked before any credential: refused while `key` is locked out. */
  check(key: string): TakeResult {
    const state = this.#clients.get(key);
    if (state === undefined || state.lockedUntil === 0) return { ok: true };
    const left = state.lockedUntil - this.#clock.now();
    if (left > 0) return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(left / 1000)) };
    // Cooldown over: the client starts with a clean slate.
    this.#clients.delete(key);
    return { ok: true };
  }

  /** Records a wrong credential from `key`. */
  recordFailure(key: string): FailureOutcome {
    const now = this.#clock.now();
    const { maxFailures, windowMs, cooldownMs, slowdownStepMs, maxSlowdownMs } = this.limits;
    const state = this.#clients.get(key) ?? { failures: [], lockedUntil: 0 };
    state.failures = state.failures.filter((at) => now - at < windowMs);
    state.failures.push(now);
    const count = state.failures.length;
    const delayMs = Math.min(maxSlowdownMs, (count - 1) * slowdownStepMs);
    let lockedOut = false;
    if (count >= maxFailures) {
      state.failures = [];
      state.lockedUntil = now + cooldownMs;
      lockedOut = true;
    }
    this.#clients.set(key, state);
    return { failures: count, lockedOut, delayMs };
  }
}

/**
 * Records a wrong API key from `client`, waits the slowdown that earns, and returns the
 * TUN_ERR_UNAUTHORIZED to throw: the one answer to a bad key on every endpoint.
 */
export async function refuseWrongKey(
  failures: AuthFailures,
  client: string,
  timers: { setTimeout(fn: () => void, ms: number): unknown },
): Promise<TunnelError> {
  const { delayMs } = failures.recordFailure(client);
  if (delayMs > 0) await new Promise((resolve) => timers.setTimeout(() => resolve(undefined), delayMs));
  return new TunnelError(
    'TUN_ERR_UNAUTHORIZED',
    'the API key is malformed, unknown, revoked, or its user is disabled',
  );
}
