/**
 * A failed order's back-off as the store keeps it, and when the renewal pass orders again:
 * a real SQLite store, a real certificate book and key seal; the issuer fails with the
 * problem text acme-client gives (tagged as acme-problem.ts tags it).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../logger.js';
import { openSqliteStore, type CertificateRecord, type Store } from '../../store/index.js';
import { FakeTimers } from '../../test-support/fake-timers.js';
import { CertificateBook } from '../certificate-book.js';
import { KeySeal } from '../key-seal.js';
import { createTestCa } from '../../../../../test/support/test-ca.js';
import { dueForOrder } from './acme-certificates.js';
import { CertificateOrders, RETRY_BASE_MS, RETRY_MAX_MS } from './certificate-orders.js';
import type { ChallengeSolver } from './challenge-solver.js';
import { OrderRateGuard } from './order-rate-guard.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
/** The issuer here never reaches a challenge. */
const solver: ChallengeSolver = {
  type: 'http-01',
  create: () => Promise.resolve(),
  remove: () => Promise.resolve(),
};
let store: Store | undefined;

afterEach(async () => {
  await store?.close();
  store = undefined;
});

async function ordersFailingWith(
  type: string,
  clock: FakeTimers,
  onOutcome?: ConstructorParameters<typeof CertificateOrders>[0]['onOutcome'],
  guard = new OrderRateGuard({ clock, perHour: 100, perDomainPerWeek: 100 }),
) {
  store = await openSqliteStore({ file: join(mkdtempSync(join(tmpdir(), 'burrow-orders-')), 'b.db') });
  const seal = new KeySeal(new Uint8Array(32).fill(7));
  const orders = new CertificateOrders({
    issuer: {
      issue: () => Promise.reject(new Error(`[urn:ietf:params:acme:error:${type}] Invalid response: 404`)),
    },
    store,
    seal,
    sink: new CertificateBook(),
    guard,
    timers: clock,
    log: createLogger('silent'),
    onOutcome,
  });
  return { orders, store, seal };
}

function row(overrides: Partial<CertificateRecord>): CertificateRecord {
  return {
    name: 'a.burrow.test',
    hosts: ['a.burrow.test'],
    origin: 'acme-http-01',
    certPem: null,
    keySealed: null,
    notBefore: null,
    notAfter: null,
    issuer: null,
    lastError: null,
    lastAttemptAt: null,
    nextAttemptAt: null,
    failures: 0,
    renewRequested: false,
    ...overrides,
  };
}

describe('a failed order', () => {
  it('is reported once per run through onOutcome (the ACME metrics)', async () => {
    const clock = new FakeTimers(T0);
    const outcomes: string[] = [];
    const { orders } = await ordersFailingWith('unauthorized', clock, (o) =>
      outcomes.push(o.kind === 'deferred' ? `deferred:${o.reason}` : o.kind),
    );
    const request = {
      name: 'a.burrow.test',
      hosts: ['a.burrow.test'],
      origin: 'acme-http-01',
      solver,
    } as const;
    await orders.run(request, 0);
    expect(outcomes).toEqual(['failed']);
    clock.advance(RETRY_BASE_MS);
    await orders.run(request, 1);
    expect(outcomes).toEqual(['failed', 'failed']);
  });

  it('a failed challenge (unauthorized) backs off 5 minutes, doubling, and is due again after it', async () => {
    const clock = new FakeTimers(T0);
    const { orders, store } = await ordersFailingWith('unauthorized', clock);
    const request = {
      name: 'a.burrow.test',
      hosts: ['a.burrow.test'],
      origin: 'acme-http-01',
      solver,
    } as const;
    const first = await orders.run(request, 0);
    expect(first).toMatchObject({ kind: 'failed', error: { code: 'TUN_ERR_ACME_ORDER_FAILED' } });
    let stored = await store.getCertificate('a.burrow.test');
    expect(stored?.nextAttemptAt?.getTime()).toBe(T0 + RETRY_BASE_MS);
    expect(dueForOrder(stored!, T0 + RETRY_BASE_MS - 1)).toBe(false);
    expect(dueForOrder(stored!, T0 + RETRY_BASE_MS)).toBe(true);
    clock.advance(RETRY_BASE_MS);
    await orders.run(request, stored!.failures);
    stored = await store.getCertificate('a.burrow.test');
    expect(stored?.nextAttemptAt?.getTime()).toBe(T0 + 3 * RETRY_BASE_MS);
  });

  it('a renewal refused for good is still retried, backing off, while its certificate is valid', async () => {
    const clock = new FakeTimers(T0);
    const { orders, store, seal } = await ordersFailingWith('rejectedIdentifier', clock);
    const ca = await createTestCa();
    const leaf = await ca.issue({
      names: ['a.burrow.test'],
      notBefore: new Date(T0 - 80 * DAY),
      notAfter: new Date(T0 + 10 * DAY),
    });
    await store.saveCertificate({
      name: 'a.burrow.test',
      hosts: ['a.burrow.test'],
      origin: 'acme-http-01',
      certPem: leaf.certPem,
      keySealed: seal.seal(leaf.keyPem),
      notBefore: new Date(T0 - 80 * DAY),
      notAfter: new Date(T0 + 10 * DAY),
      issuer: 'test',
    });
    const request = {
      name: 'a.burrow.test',
      hosts: ['a.burrow.test'],
      origin: 'acme-http-01',
      solver,
    } as const;
    const outcome = await orders.run(request, 0);
    expect(outcome).toMatchObject({ kind: 'failed', error: { code: 'TUN_ERR_ACME_REJECTED' } });
    const stored = await store.getCertificate('a.burrow.test');
    expect(stored?.nextAttemptAt?.getTime()).toBe(T0 + RETRY_BASE_MS);
    expect(dueForOrder(stored!, T0 + RETRY_BASE_MS)).toBe(true);
  });
});

describe('CertificateOrders and the rate guard', () => {
  it("an order another edge holds the lock for uses none of this edge's budget", async () => {
    const clock = new FakeTimers(T0);
    const guard = new OrderRateGuard({ clock, perHour: 1, perDomainPerWeek: 1 });
    const { orders, store } = await ordersFailingWith('serverInternal', clock, undefined, guard);
    const a = { name: 'a.burrow.test', hosts: ['a.burrow.test'], origin: 'acme-http-01', solver } as const;
    // The store compares the lock with its own clock: held for an hour from now.
    await store.claimCertificateOrder(a, 'other-edge', new Date(Date.now() + 3_600_000));
    expect(await orders.run(a, 0)).toEqual({ kind: 'deferred', reason: 'locked' });
    // The one order this hour (and this week, for burrow.test) is still there for another name.
    const b = { ...a, name: 'b.burrow.test', hosts: ['b.burrow.test'] };
    expect(await orders.run(b, 0)).toMatchObject({ kind: 'failed' });
    expect(await orders.run({ ...a, name: 'c.burrow.test', hosts: ['c.burrow.test'] }, 0)).toEqual({
      kind: 'deferred',
      reason: 'rate-guard',
    });
  });
});

describe('dueForOrder', () => {
  const renewal = {
    certPem: 'x',
    keySealed: 'y',
    notBefore: new Date(T0 - 80 * DAY),
    notAfter: new Date(T0 + 10 * DAY),
  };

  it('a certificate whose renewal failed (stored before back-off applied to it) stays due until it expires', () => {
    const failed = row({
      ...renewal,
      failures: 1,
      lastError: 'TUN_ERR_ACME_REJECTED: x',
      nextAttemptAt: null,
    });
    for (const day of [0, 1, 5, 9]) expect(dueForOrder(failed, T0 + day * DAY), `day ${day}`).toBe(true);
  });

  it('backs off at most a day', () => {
    const failed = row({ ...renewal, failures: 30, nextAttemptAt: new Date(T0 + RETRY_MAX_MS) });
    expect(dueForOrder(failed, T0 + RETRY_MAX_MS)).toBe(true);
  });

  it('a row with no certificate and no failure (an order cut short, or deferred) is due', () => {
    expect(dueForOrder(row({}), T0)).toBe(true);
  });

  it('a first order refused for good is not ordered again', () => {
    expect(dueForOrder(row({ failures: 1, lastError: 'TUN_ERR_ACME_REJECTED: x' }), T0 + 30 * DAY)).toBe(
      false,
    );
  });
});
