import { TunnelError, type Timers } from '@burrow/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Backoff, DEFAULT_BACKOFF } from './backoff.js';
import { runReconnectLoop, type LiveSession, type RetryInfo, type SessionEnd } from './reconnect.js';

/** Timers over vitest's fake clock (the global functions are faked at call time). */
const fakeTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

describe('Backoff', () => {
  it('doubles from the initial delay up to the cap without jitter in the middle of the range', () => {
    const backoff = new Backoff(DEFAULT_BACKOFF, () => 0.5);
    const delays = Array.from({ length: 10 }, () => backoff.next());
    expect(delays).toEqual([200, 400, 800, 1600, 3200, 6400, 12800, 15000, 15000, 15000]);
  });

  it('keeps jitter within ±20% and never past the cap', () => {
    const low = new Backoff(DEFAULT_BACKOFF, () => 0);
    const high = new Backoff(DEFAULT_BACKOFF, () => 0.999999);
    expect(low.next()).toBe(160);
    expect(high.next()).toBe(240);
    for (let i = 0; i < 20; i++) {
      expect(low.next()).toBeGreaterThanOrEqual(0);
      expect(high.next()).toBeLessThanOrEqual(DEFAULT_BACKOFF.maxDelayMs);
    }
    expect(low.next()).toBe(12_000);
  });

  it('spreads delays across the jitter range with a real random source', () => {
    const delays = Array.from({ length: 200 }, () => new Backoff(DEFAULT_BACKOFF).next());
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(160);
    expect(Math.max(...delays)).toBeLessThanOrEqual(240);
    expect(new Set(delays).size).toBeGreaterThan(10);
  });

  it('starts over after reset', () => {
    const backoff = new Backoff(DEFAULT_BACKOFF, () => 0.5);
    backoff.next();
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(200);
    expect(backoff.attempts).toBe(1);
  });
});

describe('runReconnectLoop', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const refused = (): TunnelError =>
    new TunnelError('TUN_ERR_CONNECT_FAILED', 'connection refused by edge:8080');

  function liveSession(): { live: LiveSession; end: (end: Omit<SessionEnd, 'upMs'>) => void } {
    const startedAt = Date.now();
    let resolve: (end: SessionEnd) => void = () => undefined;
    const ended = new Promise<SessionEnd>((r) => (resolve = r));
    return { live: { ended }, end: (end) => resolve({ ...end, upMs: Date.now() - startedAt }) };
  }

  function setup(connect: (attempt: number) => Promise<LiveSession>, stableAfterMs = 10_000) {
    const retries: RetryInfo[] = [];
    const stop = new AbortController();
    const connects: number[] = [];
    const loop = runReconnectLoop({
      connect: (attempt) => {
        connects.push(Date.now());
        return connect(attempt);
      },
      onRetry: (info) => retries.push(info),
      backoff: new Backoff(DEFAULT_BACKOFF, () => 0.5),
      timers: fakeTimers,
      stableAfterMs,
      signal: stop.signal,
    });
    loop.catch(() => undefined);
    return { loop, retries, stop, connects };
  }

  it('retries retryable connect failures with growing delays', async () => {
    const t0 = Date.now();
    const { retries, stop, connects, loop } = setup(() => Promise.reject(refused()));
    await vi.advanceTimersByTimeAsync(200 + 400 + 800 + 1600 + 1);
    expect(retries.map((r) => r.delayMs)).toEqual([200, 400, 800, 1600, 3200]);
    expect(retries.map((r) => r.attempt)).toEqual([1, 2, 3, 4, 5]);
    expect(retries[0]!.reason.message).toBe('connection refused by edge:8080');
    expect(connects.map((t) => t - t0)).toEqual([0, 200, 600, 1400, 3000]);
    stop.abort();
    await expect(loop).resolves.toBeUndefined();
  });

  it('stops at once on a non-retryable failure, with that error', async () => {
    const { retries, loop, connects } = setup(() =>
      Promise.reject(new TunnelError('TUN_ERR_UNAUTHORIZED', 'unknown API key')),
    );
    await expect(loop).rejects.toMatchObject({ code: 'TUN_ERR_UNAUTHORIZED', message: 'unknown API key' });
    expect(retries).toEqual([]);
    expect(connects).toHaveLength(1);
  });

  it('treats non-TunnelError failures as connect failures and retries them', async () => {
    const { retries, stop } = setup(() => Promise.reject(new Error('boom')));
    await vi.advanceTimersByTimeAsync(1);
    expect(retries[0]?.reason.code).toBe('TUN_ERR_CONNECT_FAILED');
    stop.abort();
  });

  it('reconnects after an established session ends, resetting the backoff once it was stable', async () => {
    const sessions: ReturnType<typeof liveSession>[] = [];
    let failNext = 0;
    const { retries, stop } = setup(() => {
      if (failNext > 0) {
        failNext -= 1;
        return Promise.reject(refused());
      }
      const session = liveSession();
      sessions.push(session);
      return Promise.resolve(session.live);
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(sessions).toHaveLength(1);

    // Short-lived session: the backoff keeps growing across it.
    failNext = 2;
    sessions[0]!.end({ reason: new TunnelError('TUN_ERR_SESSION_CLOSED', 'lost'), goaway: false });
    await vi.advanceTimersByTimeAsync(200 + 400 + 800);
    expect(retries.map((r) => r.delayMs)).toEqual([200, 400, 800]);
    expect(sessions).toHaveLength(2);

    // A session that stayed up resets it.
    await vi.advanceTimersByTimeAsync(10_000);
    sessions[1]!.end({ reason: new TunnelError('TUN_ERR_PEER_TIMEOUT', 'quiet'), goaway: false });
    await vi.advanceTimersByTimeAsync(0);
    expect(retries.at(-1)).toMatchObject({ attempt: 1, delayMs: 200 });
    expect(retries.at(-1)?.reason.code).toBe('TUN_ERR_PEER_TIMEOUT');
    stop.abort();
  });

  it('stops, with that error, when the edge ends a session for good (anonymous lifetime over)', async () => {
    const session = liveSession();
    const { loop, retries, connects } = setup(() => Promise.resolve(session.live));
    await vi.advanceTimersByTimeAsync(0);
    session.end({ reason: new TunnelError('TUN_ERR_TUNNEL_EXPIRED', 'lifetime over'), goaway: false });
    await expect(loop).rejects.toMatchObject({ code: 'TUN_ERR_TUNNEL_EXPIRED' });
    expect(retries).toEqual([]);
    expect(connects).toHaveLength(1);
  });

  it('reconnects at once after a GOAWAY from a stable session, with backoff after an unstable one', async () => {
    const sessions: ReturnType<typeof liveSession>[] = [];
    const { retries, stop } = setup(() => {
      const session = liveSession();
      sessions.push(session);
      return Promise.resolve(session.live);
    });
    await vi.advanceTimersByTimeAsync(10_000);
    const goingAway = new TunnelError('TUN_ERR_GOING_AWAY', 'the edge is shutting down');
    sessions[0]!.end({ reason: goingAway, goaway: true });
    await vi.advanceTimersByTimeAsync(0);
    expect(retries).toEqual([{ attempt: 1, delayMs: 0, reason: goingAway }]);
    expect(sessions).toHaveLength(2);

    // An edge that says GOAWAY right after every handshake does not get a busy loop.
    sessions[1]!.end({ reason: goingAway, goaway: true });
    await vi.advanceTimersByTimeAsync(0);
    expect(retries.at(-1)?.delayMs).toBe(200);
    expect(sessions).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(200);
    expect(sessions).toHaveLength(3);
    stop.abort();
  });

  it('ends a pending wait as soon as it is stopped', async () => {
    const { loop, stop, connects } = setup(() => Promise.reject(refused()));
    await vi.advanceTimersByTimeAsync(0);
    stop.abort();
    await expect(loop).resolves.toBeUndefined();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(connects).toHaveLength(1);
  });
});
