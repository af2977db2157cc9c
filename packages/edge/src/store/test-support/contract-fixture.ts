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
