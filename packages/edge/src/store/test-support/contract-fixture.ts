/**
 * Shared pieces of the Store contract suites (store.contract.ts, tenancy.contract.ts):
 * seeded randomness and the fixture through which a suite reaches the store its
 * `beforeEach` opened. The manual clock is the edge's one `FakeTimers`.
 */
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import { TunnelError } from '@burrow/protocol';
import type { ErrorCode } from '@burrow/protocol';
import type { FakeTimers } from '../../test-support/fake-timers.js';
import type { RequestRecord } from '../request-records.js';
import type { Clock, RandomBytes, Store } from '../store.js';

export interface StoreContractContext {
  /** Names the database for this test; the same name must reopen the same data. */
  database: string;
  clock: Clock;
  random: RandomBytes;
}

/** Deterministic bytes: sha256 of `seed:counter` blocks, so equal seeds give equal output. */
export function seededRandom(seed: string): RandomBytes {
  let counter = 0;
  return (size) => {
    const out = Buffer.alloc(size);
    for (let filled = 0; filled < size;) {
      const block = createHash('sha256').update(`${seed}:${counter++}`).digest();
      filled += block.copy(out, filled, 0, Math.min(block.length, size - filled));
    }
    return out;
  };
}

/** Where every contract test's clock starts. */
export const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);
export const MINUTE = 60_000;

/** What a suite sees of the current test: getters, because each test opens a fresh store. */
export interface ContractFixture {
  store(): Store;
  clock(): FakeTimers;
  /** Opens the current test's database again (or another, via `database`). */
  openStore(overrides?: Partial<StoreContractContext>): Promise<Store>;
}

export async function expectTunnelError(
  promise: Promise<unknown>,
  code: ErrorCode,
  message?: RegExp,
): Promise<TunnelError> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TunnelError);
  expect((err as TunnelError).code).toBe(code);
  if (message !== undefined) expect((err as TunnelError).message).toMatch(message);
  return err as TunnelError;
}

/** A plain 200 through tunnel `web` at T0, no capture; `overrides` changes any field. */
export function requestRecord(id: string, overrides: Partial<RequestRecord> = {}): RequestRecord {
  return {
    id,
    tunnel: 'web',
    userId: 'usr_alice',
    startedAt: new Date(T0),
    method: 'GET',
    path: '/',
    host: 'web.tunnel.test',
    status: 200,
    upgrade: false,
    bytesIn: 0,
    bytesOut: 12,
    clientAddress: '127.0.0.2',
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    errorCode: null,
    timing: { edgeMs: 0.25, tunnelMs: 1.5, originMs: 3, totalMs: 5.125 },
    replayOf: null,
    capture: null,
    ...overrides,
  };
}
