/**
 * The renewal pass over a real SQLite store: it stops between orders once stop() was called,
 * and stops serving a certificate `certs remove` deleted.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestCa } from '../../../../../test/support/test-ca.js';
import { createLogger } from '../../logger.js';
import { openSqliteStore, type Store } from '../../store/index.js';
import { FakeTimers } from '../../test-support/fake-timers.js';
import { CertificateBook } from '../certificate-book.js';
import { KeySeal } from '../key-seal.js';
import { AcmeCertificates } from './acme-certificates.js';
import { CertificateOrders } from './certificate-orders.js';
import type { ChallengeSolver } from './challenge-solver.js';
import { OrderRateGuard } from './order-rate-guard.js';

/** The issuer here never reaches a challenge. */
const solver: ChallengeSolver = {
  type: 'http-01',
  create: () => Promise.resolve(),
  remove: () => Promise.resolve(),
};

/**
 * Orders through an issuer that records each name and refuses it, into `sink`, and the
 * AcmeCertificates over them; `onIssue` runs inside each order.
 */
function acmeOver(
  store: Store,
  clock: FakeTimers,
  o: { sink?: CertificateBook; seal?: KeySeal; onIssue?: () => void } = {},
): { acme: AcmeCertificates; ordered: string[] } {
  const ordered: string[] = [];
  const orders = new CertificateOrders({
    issuer: {
      issue: (hosts) => {
        ordered.push(hosts[0]!);
        o.onIssue?.();
        return Promise.reject(new Error('[urn:ietf:params:acme:error:serverInternal] busy'));
      },
    },
    store,
    seal: o.seal ?? new KeySeal(new Uint8Array(32).fill(7)),
    sink: o.sink ?? new CertificateBook(),
    guard: new OrderRateGuard({ clock, perHour: 100, perDomainPerWeek: 100 }),
    timers: clock,
    log: createLogger('silent'),
  });
  const acme = new AcmeCertificates({
    orders,
    store,
    responsible: () => Promise.resolve(true),
    solver,
    timers: clock,
    log: createLogger('silent'),
    waitMs: 1_000,
    renewIntervalMs: 3_600_000,
  });
  return { acme, ordered };
}

describe('AcmeCertificates renewal pass', () => {
  it('orders nothing more once stop() was called during the pass', async () => {
    const store = await openSqliteStore({ file: join(mkdtempSync(join(tmpdir(), 'burrow-acme-')), 'b.db') });
    try {
      const clock = new FakeTimers(Date.UTC(2026, 0, 1));
      // Three names whose first order was cut short (no certificate, no failure): all due.
      for (const name of ['a.burrow.test', 'b.burrow.test', 'c.burrow.test'])
        await store.claimCertificateOrder(
          { name, hosts: [name], origin: 'acme-http-01' },
          'gone-edge',
          new Date(0),
        );
      const self: { acme?: AcmeCertificates } = {};
      const { acme, ordered } = acmeOver(store, clock, { onIssue: () => void self.acme?.stop() });
      self.acme = acme;
      await acme.renewDue();
      expect(ordered).toEqual(['a.burrow.test']);
    } finally {
      await store.close();
    }
  });

  it('stops serving a certificate removed from the store at the next pass, and orders it again on demand', async () => {
    const store = await openSqliteStore({ file: join(mkdtempSync(join(tmpdir(), 'burrow-acme-')), 'b.db') });
    try {
      const T0 = Date.UTC(2026, 0, 1);
      const clock = new FakeTimers(T0);
      const seal = new KeySeal(new Uint8Array(32).fill(7));
      const ca = await createTestCa();
      const DAY = 86_400_000;
      // Two certificates; only the first is removed.
      for (const name of ['a.burrow.test', 'b.burrow.test']) {
        const validity = { notBefore: new Date(T0 - DAY), notAfter: new Date(T0 + 89 * DAY) };
        const leaf = await ca.issue({ names: [name], ...validity });
        await store.saveCertificate({
          name,
          hosts: [name],
          origin: 'acme-http-01',
          certPem: leaf.certPem,
          keySealed: seal.seal(leaf.keyPem),
          ...validity,
          issuer: 'test',
        });
      }
      const book = new CertificateBook({ clock });
      const { acme, ordered } = acmeOver(store, clock, { sink: book, seal });
      expect(await acme.loadStored()).toBe(2);
      expect(
        book
          .list()
          .map((c) => c.hosts[0])
          .sort(),
      ).toEqual(['a.burrow.test', 'b.burrow.test']);
      clock.advance(1_000);
      await acme.renewDue();
      expect(book.select('a.burrow.test')).toBeDefined();

      expect(await store.removeCertificate('a.burrow.test')).toBe(true);
      await acme.renewDue();
      expect(book.list().map((c) => c.hosts[0])).toEqual(['b.burrow.test']);
      expect(book.select('a.burrow.test')).toBeUndefined();
      expect(ordered).toEqual([]);
      // The next handshake for the name orders afresh (this issuer refuses it).
      await acme.obtain('a.burrow.test');
      expect(ordered).toEqual(['a.burrow.test']);
    } finally {
      await store.close();
    }
  });
});
