/**
 * The reconnect loop: connect, serve until the session ends, wait, connect again.
 *
 * Rules, in order:
 * - a failure while connecting (dial, handshake, BIND) that is not retryable
 *   (`TunnelError.retryable === false`: bad key, name taken, invalid name) ends the loop
 *   with that error, because trying again cannot help;
 * - any other failure waits a backoff delay and tries again;
 * - a session that ends after it was established reconnects: it proved the settings
 *   work, and if they stopped working (a revoked key) the next handshake says so; except
 *   a session the edge ended for good (TUN_ERR_TUNNEL_EXPIRED: an anonymous tunnel's
 *   lifetime is over), which ends the loop with that error;
 * - a session that stayed up for `stableAfterMs` resets the backoff;
 * - a session the edge ended with GOAWAY (edge shutting down) reconnects at once, since the
 *   edge asked us to go elsewhere rather than failing.
 *
 * Time comes from injected timers; the loop holds no socket itself.
 */

import { toTunnelError, type Timers, type TunnelError } from '@burrow/protocol';
import type { Backoff } from './backoff.js';

/** Codes with which the edge ends a session for good: reconnecting cannot help. */
const FINAL_SESSION_ENDS: ReadonlySet<string> = new Set(['TUN_ERR_TUNNEL_EXPIRED']);

/** How an established session ended. */
export interface SessionEnd {
  readonly reason: TunnelError;
  /** How long the session was established, in ms. */
  readonly upMs: number;
  /** True when the edge announced GOAWAY before the session closed. */
  readonly goaway: boolean;
}

/** A session that finished its handshake and binds; `ended` resolves (never rejects) when it is gone. */
export interface LiveSession {
  readonly ended: Promise<SessionEnd>;
}

export interface RetryInfo {
  /** 1 for the first retry after a success or start, counting up while failures continue. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly reason: TunnelError;
}

export interface ReconnectLoopOptions {
  /** Dials, handshakes and binds. Rejects with a TunnelError (anything else counts as a connect failure). */
  connect(attempt: number, signal: AbortSignal): Promise<LiveSession>;
  /** Told before every wait, including the zero wait after GOAWAY. */
  onRetry(info: RetryInfo): void;
  backoff: Backoff;
  timers: Timers;
  /** A session up at least this long resets the backoff, in ms. */
  stableAfterMs: number;
  /** Aborting stops the loop: a pending wait ends at once and the loop resolves. */
  signal: AbortSignal;
}

/**
 * Runs until `signal` aborts (resolves) or a non-retryable connect failure (rejects with it).
 * At most one session is alive at a time: the next connect starts only after `ended`.
 */
export async function runReconnectLoop(options: ReconnectLoopOptions): Promise<void> {
  const { backoff, signal } = options;
  let attempt = 1;
  while (!signal.aborted) {
    let live: LiveSession;
    try {
      live = await options.connect(attempt, signal);
    } catch (err) {
      if (signal.aborted) return;
      const reason = toTunnelError(err, 'TUN_ERR_CONNECT_FAILED');
      if (!reason.retryable) throw reason;
      await wait(options, { attempt, delayMs: backoff.next(), reason });
      attempt += 1;
      continue;
    }
    const end = await live.ended;
    if (signal.aborted) return;
    if (FINAL_SESSION_ENDS.has(end.reason.code)) throw end.reason;
    if (end.upMs >= options.stableAfterMs) backoff.reset();
    attempt = 1;
    // An edge that says GOAWAY right after every handshake must not turn this into a busy loop.
    const delayMs = end.goaway && end.upMs >= options.stableAfterMs ? 0 : backoff.next();
    await wait(options, { attempt, delayMs, reason: end.reason });
    attempt += 1;
  }
}

function wait(options: ReconnectLoopOptions, info: RetryInfo): Promise<void> {
  const { timers, signal } = options;
  if (signal.aborted) return Promise.resolve();
  options.onRetry(info);
  return new Promise<void>((resolve) => {
    const done = (): void => {
      timers.clearTimeout(handle);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const handle = timers.setTimeout(done, info.delayMs);
    signal.addEventListener('abort', done, { once: true });
  });
}
