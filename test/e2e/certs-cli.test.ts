/**
 * `burrow-edge certs list|renew|remove` on a real data directory (the built CLI), with
 * certificate rows as the ACME source stores them.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../packages/edge/src/store/index.js';
import { edgeCli, stopAll, tempDir } from './harness.js';

let dir = '';
const NOT_AFTER = new Date('2031-01-01T00:00:00.000Z');

beforeAll(async () => {
  dir = tempDir();
  const store = await openSqliteStore({ file: join(dir, 'burrow.db') });
  await store.saveCertificate({
    name: 'shop.burrow.test',
    hosts: ['shop.burrow.test'],
    origin: 'acme-http-01',
    certPem: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n',
    keySealed: 'v1.sealed.secret-key-material',
    notBefore: new Date('2030-10-01T00:00:00.000Z'),
    notAfter: NOT_AFTER,
    issuer: 'Pebble Intermediate CA 1',
  });
  await store.recordCertificateFailure({
    name: 'down.burrow.test',
    hosts: ['down.burrow.test'],
    origin: 'acme-http-01',
    error: 'TUN_ERR_ACME_ORDER_FAILED: connect ECONNREFUSED',
    nextAttemptAt: new Date('2030-01-01T00:10:00.000Z'),
  });
  await store.close();
});

afterAll(() => stopAll());

describe('burrow-edge certs', () => {
  it('lists certificates with issuer, expiry and the last error, never a key', async () => {
    const run = await edgeCli(dir, 'certs', 'list');
    expect(run.code, run.stderr.join('\n')).toBe(0);
    const text = run.stdout.join('\n');
    expect(text).toContain('shop.burrow.test');
    expect(text).toContain('Pebble Intermediate CA 1');
    expect(text).toContain(NOT_AFTER.toISOString());
    expect(text).toMatch(/down\.burrow\.test .*no certificate.*TUN_ERR_ACME_ORDER_FAILED/);
    expect(text).not.toContain('secret-key-material');
    const json = await edgeCli(dir, 'certs', 'list', '--json');
    const rows = JSON.parse(json.stdout.join('\n')) as Record<string, unknown>[];
    expect(rows.map((r) => r['name'])).toEqual(['down.burrow.test', 'shop.burrow.test']);
    expect(rows[1]).toMatchObject({ issuer: 'Pebble Intermediate CA 1', notAfter: NOT_AFTER.toISOString() });
    expect(JSON.stringify(rows)).not.toMatch(/keySealed|secret-key-material|BEGIN CERTIFICATE/);
  });

  it('marks a certificate for renewal at the next pass', async () => {
    const run = await edgeCli(dir, 'certs', 'renew', 'SHOP.burrow.test');
    expect(run.code, run.stderr.join('\n')).toBe(0);
    expect(run.stderr.join('\n')).toMatch(/renewal pass/);
    const rows = JSON.parse((await edgeCli(dir, 'certs', 'list', '--json')).stdout.join('\n')) as {
      name: string;
      renewRequested: boolean;
    }[];
    expect(rows.find((r) => r.name === 'shop.burrow.test')?.renewRequested).toBe(true);
  });

  it('removes a certificate, and says what to do for an unknown name', async () => {
    expect((await edgeCli(dir, 'certs', 'remove', 'down.burrow.test')).code).toBe(0);
    const missing = await edgeCli(dir, 'certs', 'remove', 'down.burrow.test');
    expect(missing.code).toBe(1);
    expect(missing.stderr.join('\n')).toMatch(
      /no certificate for "down\.burrow\.test".*certs list.*TUN_ERR_NOT_FOUND/,
    );
    const renewMissing = await edgeCli(dir, 'certs', 'renew', 'nothing.example');
    expect(renewMissing.code).toBe(1);
  });
});
