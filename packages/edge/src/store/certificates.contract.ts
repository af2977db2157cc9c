/**
 * The certificate half of the Store contract (see certificate-records.ts): the ACME
 * account, certificates with their order state and lock, and HTTP-01 challenge tokens.
 * Run by store.contract.ts on every backend.
 */
import { describe, expect, it } from 'vitest';
import type { SaveCertificateInput, Store } from './store.js';
import { MINUTE, T0, type ContractFixture } from './test-support/contract-fixture.js';

const DIRECTORY = 'https://acme.example/directory';

function certificate(name: string, overrides: Partial<SaveCertificateInput> = {}): SaveCertificateInput {
  return {
    name,
    hosts: [name],
    origin: 'acme-http-01',
    certPem: `-----BEGIN CERTIFICATE-----\n${name}\n-----END CERTIFICATE-----\n`,
    keySealed: `sealed:${name}`,
    notBefore: new Date(T0),
    notAfter: new Date(T0 + 90 * 24 * 60 * MINUTE),
    issuer: 'Pebble Intermediate CA',
    ...overrides,
  };
}

export function describeCertificatesContract(fixture: ContractFixture): void {
  const store = (): Store => fixture.store();
  const clock = () => fixture.clock();

  describe('acme account', () => {
    it('keeps one account per directory; the first saved wins', async () => {
      expect(await store().getAcmeAccount(DIRECTORY)).toBeUndefined();
      const first = await store().saveAcmeAccount({
        directoryUrl: DIRECTORY,
        email: 'ops@example.com',
        keySealed: 'sealed-1',
        accountUrl: 'https://acme.example/acct/1',
      });
      const second = await store().saveAcmeAccount({
        directoryUrl: DIRECTORY,
        email: 'other@example.com',
        keySealed: 'sealed-2',
        accountUrl: 'https://acme.example/acct/2',
      });
      expect(second).toEqual(first);
      expect(await store().getAcmeAccount(DIRECTORY)).toEqual({
        directoryUrl: DIRECTORY,
        email: 'ops@example.com',
        keySealed: 'sealed-1',
        accountUrl: 'https://acme.example/acct/1',
        createdAt: new Date(T0),
      });
      expect(await store().getAcmeAccount('https://other.example/dir')).toBeUndefined();
    });
  });

  describe('certificates', () => {
    it('saves, reads back and lists a certificate with its hosts and validity', async () => {
      const saved = await store().saveCertificate(certificate('app.example.com'));
      expect(saved).toMatchObject({
        name: 'app.example.com',
        hosts: ['app.example.com'],
        origin: 'acme-http-01',
        keySealed: 'sealed:app.example.com',
        issuer: 'Pebble Intermediate CA',
        notBefore: new Date(T0),
        lastError: null,
        nextAttemptAt: null,
        failures: 0,
        renewRequested: false,
      });
      expect(await store().getCertificate('app.example.com')).toEqual(saved);
      expect((await store().listCertificates()).map((c) => c.name)).toEqual(['app.example.com']);
      expect(await store().getCertificate('nope.example.com')).toBeUndefined();
    });

    it('records a failure with back-off, keeps the certificate held, and a success clears it', async () => {
      await store().saveCertificate(certificate('a.example.com'));
      clock().advance(MINUTE);
      const failed = await store().recordCertificateFailure({
        name: 'a.example.com',
        hosts: ['a.example.com'],
        origin: 'acme-http-01',
        error: 'TUN_ERR_ACME_ORDER_FAILED: connection refused',
        nextAttemptAt: new Date(T0 + 10 * MINUTE),
      });
      expect(failed).toMatchObject({
        certPem: certificate('a.example.com').certPem,
        lastError: 'TUN_ERR_ACME_ORDER_FAILED: connection refused',
        lastAttemptAt: new Date(T0 + MINUTE),
        nextAttemptAt: new Date(T0 + 10 * MINUTE),
        failures: 1,
      });
      const twice = await store().recordCertificateFailure({
        name: 'a.example.com',
        hosts: ['a.example.com'],
        origin: 'acme-http-01',
        error: 'again',
        nextAttemptAt: null,
      });
      expect(twice.failures).toBe(2);
      const renewed = await store().saveCertificate(certificate('a.example.com', { issuer: 'New CA' }));
      expect(renewed).toMatchObject({ issuer: 'New CA', lastError: null, nextAttemptAt: null, failures: 0 });
    });

    it('records a failure for a name that never had a certificate', async () => {
      const failed = await store().recordCertificateFailure({
        name: 'new.example.com',
        hosts: ['new.example.com'],
        origin: 'acme-http-01',
        error: 'boom',
        nextAttemptAt: new Date(T0 + MINUTE),
      });
      expect(failed).toMatchObject({ certPem: null, keySealed: null, failures: 1, lastError: 'boom' });
      expect(await store().listCertificates({ withCertificate: true })).toEqual([]);
      expect(await store().listCertificates()).toHaveLength(1);
    });

    it('lets one holder at a time take the order lock, until it expires or the order ends', async () => {
      const order = {
        name: 'lock.example.com',
        hosts: ['lock.example.com'],
        origin: 'acme-http-01' as const,
      };
      const until = new Date(T0 + 5 * MINUTE);
      expect(await store().claimCertificateOrder(order, 'edge-a', until)).toBe(true);
      expect(await store().claimCertificateOrder(order, 'edge-b', until)).toBe(false);
      expect(await store().claimCertificateOrder(order, 'edge-a', until)).toBe(true);
      clock().advance(6 * MINUTE);
      expect(await store().claimCertificateOrder(order, 'edge-b', new Date(T0 + 20 * MINUTE))).toBe(true);
      await store().saveCertificate(certificate('lock.example.com'));
      expect(await store().claimCertificateOrder(order, 'edge-a', new Date(T0 + 20 * MINUTE))).toBe(true);
    });

    it('marks a certificate for renewal and removes it', async () => {
      await store().saveCertificate(certificate('r.example.com'));
      expect(await store().requestCertificateRenewal('r.example.com')).toBe(true);
      expect((await store().getCertificate('r.example.com'))?.renewRequested).toBe(true);
      expect(await store().requestCertificateRenewal('missing.example.com')).toBe(false);
      // The order the request asked for was tried: a failure ends the request (its back-off rules again).
      const failed = await store().recordCertificateFailure({
        name: 'r.example.com',
        hosts: ['r.example.com'],
        origin: 'acme-http-01',
        error: 'x',
        nextAttemptAt: null,
      });
      expect(failed.renewRequested).toBe(false);
      expect(await store().removeCertificate('r.example.com')).toBe(true);
      expect(await store().removeCertificate('r.example.com')).toBe(false);
      expect(await store().getCertificate('r.example.com')).toBeUndefined();
    });

    it('keeps several hosts and a wildcard name', async () => {
      await store().saveCertificate(
        certificate('*.t.example.com', {
          hosts: ['*.t.example.com', 't.example.com'],
          origin: 'acme-dns-01',
        }),
      );
      const got = await store().getCertificate('*.t.example.com');
      expect(got?.hosts).toEqual(['*.t.example.com', 't.example.com']);
      expect(got?.origin).toBe('acme-dns-01');
    });
  });

  describe('acme challenges', () => {
    it('answers a token until it expires or is deleted, seen from another store too', async () => {
      await store().putAcmeChallenge('tok-1', 'tok-1.thumb', new Date(T0 + MINUTE));
      await store().putAcmeChallenge('tok-2', 'tok-2.thumb', new Date(T0 + 10 * MINUTE));
      const other = await fixture.openStore();
      expect(await other.getAcmeChallenge('tok-1')).toBe('tok-1.thumb');
      expect(await store().getAcmeChallenge('unknown')).toBeUndefined();
      clock().advance(2 * MINUTE);
      expect(await store().getAcmeChallenge('tok-1')).toBeUndefined();
      await store().deleteAcmeChallenge('tok-2');
      expect(await other.getAcmeChallenge('tok-2')).toBeUndefined();
      await store().putAcmeChallenge('tok-2', 'replaced', new Date(T0 + 10 * MINUTE));
      expect(await store().getAcmeChallenge('tok-2')).toBe('replaced');
    });
  });
}
