/**
 * Brute-force protection for tunnel passwords and tokens: failed attempts are counted per
 * client in a sliding window. Each failure slows the next answer a little; after
 * `maxFailures` within `windowMs` the client is locked out for `cooldownMs`, during which
 * its attempts are refused with 429 before any credential is compared. Memory is bounded
 * like the rate limiter's (least recently used client evicted first).
 *
 * A success does not clear the count: behind a shared NAT, a legitimate user's steady
 * successes would otherwise keep resetting an attacker's counter. Failures simply age out.
 *
 * `begin` counts an attempt before its credential is checked (a pending failure, given back
 * on success): otherwise N guesses sent in parallel all pass the gate before the first one
 * is recorded, and the lockout never bounds how many keys get checked. An attempt that finds
 * the budget held by attempts in flight waits for them rather than being refused, so many
 * right keys at once (agents behind one NAT) are not mistaken for guessing.
 */

import { TunnelError, type Clock } from '@burrow/protocol';
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
  /** Attempts begun and not yet settled: counted as failures until they succeed. */
  pending: number;
}

/** One credential check in flight; settle it exactly once (later calls are ignored). */
export interface AuthAttempt {
  /** The credential was right: the attempt no longer counts. */
  succeeded(): void;
  /** The credential was wrong: the attempt becomes a recorded failure. */
  failed(): FailureOutcome;
}

/**
 * Most attempts from one client that wait for a slot; past it they are refused (429). Each
 * waiter is a connection already open, and none waits longer than the key checks before it.
 */
export const MAX_WAITING_PER_CLIENT = 256;

export type BeginResult = { ok: true; attempt: AuthAttempt } | { ok: false; retryAfterSeconds: number };

export class AuthFailures {
  readonly limits: Readonly<AuthFailureLimits>;
  readonly #clock: Clock;
  readonly #clients: LruMap<string, ClientState>;
  /** Attempts waiting for one in flight to settle, per client; no entry when none wait. */
  readonly #waiting = new Map<string, ((result: BeginResult) => void)[]>();

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

  /**
   * The gate and the count in one step, before any credential is compared: refused while
   * `key` is locked out. When its failures plus attempts in flight reach the limit, the
   * attempt waits for one in flight to settle and is decided again: a right key gives its
   * slot back, a wrong one may lock the address out (then the waiters are refused). So N
   * parallel wrong keys get at most `maxFailures` checked, and N parallel right keys (agents
   * behind one NAT reconnecting at once) all get in. The wait is short (each attempt in
   * flight settles within one key check) and at most MAX_WAITING_PER_CLIENT attempts wait.
   */
  begin(key: string): Promise<BeginResult> {
    const decided = this.#tryBegin(key);
    if (decided !== 'full') return Promise.resolve(decided);
    const queue = this.#waiting.get(key) ?? [];
    if (queue.length >= MAX_WAITING_PER_CLIENT) {
      return Promise.resolve({ ok: false, retryAfterSeconds: 1 });
    }
    this.#waiting.set(key, queue);
    return new Promise((resolve) => queue.push(resolve));
  }

  /** Admits, refuses, or says the budget is full only because of attempts in flight. */
  #tryBegin(key: string): BeginResult | 'full' {
    const gate = this.check(key);
    if (!gate.ok) return gate;
    const now = this.#clock.now();
    const state = this.#clients.get(key) ?? { failures: [], lockedUntil: 0, pending: 0 };
    state.failures = state.failures.filter((at) => now - at < this.limits.windowMs);
    // Failures alone reaching the limit lock the address out, so a full budget has attempts
    // in flight: one of them settling frees a slot or locks the address out.
    if (state.failures.length + state.pending >= this.limits.maxFailures) return 'full';
    state.pending++;
    this.#clients.set(key, state);
    let settled = false;
    const settle = (): void => {
      settled = true;
      // The state this attempt was counted in, even if the LRU evicted it since.
      if (state.pending > 0) state.pending--;
    };
    return {
      ok: true,
      attempt: {
        succeeded: () => {
          if (settled) return;
          settle();
          this.#wake(key);
        },
        failed: () => {
          if (settled) return { failures: 0, lockedOut: false, delayMs: 0 };
          settle();
          const outcome = this.recordFailure(key);
          this.#wake(key);
          return outcome;
        },
      },
    };
  }

  /** Decides the attempts waiting on `key` again, oldest first; those still blocked wait on. */
  #wake(key: string): void {
    const queue = this.#waiting.get(key);
    if (queue === undefined) return;
    while (queue.length > 0) {
      const decided = this.#tryBegin(key);
      if (decided === 'full') return;
      queue.shift()!(decided);
    }
    this.#waiting.delete(key);
  }

  /** Records a wrong credential from `key`. */
  recordFailure(key: string): FailureOutcome {
    const now = this.#clock.now();
    const { maxFailures, windowMs, cooldownMs, slowdownStepMs, maxSlowdownMs } = this.limits;
    const state = this.#clients.get(key) ?? { failures: [], lockedUntil: 0, pending: 0 };
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
 * Begins a key check for `client` (waiting while the address's budget is held by checks in
 * flight), or throws TUN_ERR_AUTH_LOCKED (its `retryAfterSeconds` says when to come back)
 * while the address is locked out.
 */
export async function beginKeyAttempt(failures: AuthFailures, client: string): Promise<AuthAttempt> {
  const begun = await failures.begin(client);
  if (!begun.ok) throw new AuthLockedError(begun.retryAfterSeconds);
  return begun.attempt;
}

/** A locked-out address; carries the Retry-After the answer must have. */
export class AuthLockedError extends TunnelError {
  constructor(readonly retryAfterSeconds: number) {
    super(
      'TUN_ERR_AUTH_LOCKED',
      `too many wrong API keys from your address; try again in ${retryAfterSeconds} s`,
    );
  }
}

/**
 * Records a wrong API key for `attempt`, waits the slowdown that earns, and returns the
 * TUN_ERR_UNAUTHORIZED to throw: the one answer to a bad key on every endpoint.
 */
export async function refuseWrongKey(
  attempt: AuthAttempt,
  timers: { setTimeout(fn: () => void, ms: number): unknown },
): Promise<TunnelError> {
  const { delayMs } = attempt.failed();
  if (delayMs > 0) await new Promise((resolve) => timers.setTimeout(() => resolve(undefined), delayMs));
  return new TunnelError(
    'TUN_ERR_UNAUTHORIZED',
    'the API key is malformed, unknown, revoked, or its user is disabled',
  );
}
