import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { TunnelError } from '@burrow/protocol';
import { CertificateBook } from './certificate-book.js';
import type { CertificateOrigin } from './certificates.js';
import { servedSerial as serialFrom, startSniServer } from './test-support/sni-server.js';
import { createTestCa, type TestCa, type TestCertificate } from '../../../../test/support/test-ca.js';

const DAY = 86_400_000;
let ca: TestCa;
let otherCa: TestCa;

beforeAll(async () => {
  ca = await createTestCa();
  otherCa = await createTestCa({ name: 'Other CA' });
});

/** The serial a real TLS handshake with this SNI gets from the book. */
async function servedSerial(book: CertificateBook, servername: string | undefined): Promise<string> {
  const server = await startSniServer(book);
  try {
    return await serialFrom(server.port, servername);
  } finally {
    await server.close();
  }
}

function installAll(book: CertificateBook, ...pairs: [TestCertificate, CertificateOrigin][]): void {
  for (const [cert, origin] of pairs) book.install(cert, origin);
}

describe('CertificateBook.install', () => {
  it('reads hosts, validity and issuer from the certificate', async () => {
    const leaf = await ca.issue({ names: ['App.Example.com', '*.example.com'], days: 10 });
    const installed = new CertificateBook().install(leaf, 'file');
    expect(installed.hosts).toEqual(['app.example.com', '*.example.com']);
    expect(installed.issuer).toBe('Burrow test CA');
    expect(installed.origin).toBe('file');
    expect(installed.notAfter.getTime()).toBe(new Date(new X509Certificate(leaf.certPem).validTo).getTime());
    expect(installed.notBefore.getTime()).toBeLessThan(Date.now());
  });

  it.each([
    ['garbage instead of a certificate', { certPem: 'not a certificate', keyPem: 'x' }],
    ['a key that is not a key', { certPem: '', keyPem: 'garbage' }],
  ])('refuses %s with TUN_ERR_CERT_INVALID', async (_label, broken) => {
    const leaf = await ca.issue({ names: ['a.example.com'] });
    const material = { certPem: broken.certPem || leaf.certPem, keyPem: broken.keyPem };
    expect(() => new CertificateBook().install(material, 'file')).toThrow(
      expect.objectContaining({ code: 'TUN_ERR_CERT_INVALID' }),
    );
  });

  it('refuses a key that does not belong to the certificate and keeps serving the old one', async () => {
    const book = new CertificateBook();
    const old = await ca.issue({ names: ['a.example.com'] });
    book.install(old, 'file');
    const other = await ca.issue({ names: ['a.example.com'] });
    let thrown: unknown;
    try {
      book.install({ certPem: other.certPem, keyPem: old.keyPem }, 'file');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(TunnelError);
    expect((thrown as TunnelError).code).toBe('TUN_ERR_CERT_INVALID');
    expect((thrown as TunnelError).message).toMatch(/private key does not match/);
    expect(await servedSerial(book, 'a.example.com')).toBe(old.serialNumber);
    expect(book.list()).toHaveLength(1);
  });

  it('refuses a certificate without DNS names', async () => {
    const noNames = await ca.issue({ names: ['192.0.2.1'] });
    expect(() => new CertificateBook().install(noNames, 'file')).toThrow(/no DNS name/);
  });

  it('replaces the certificate with the same origin and hosts (renewal) instead of adding one', async () => {
    const book = new CertificateBook();
    const first = await ca.issue({ names: ['a.example.com'], days: 10 });
    const renewed = await ca.issue({ names: ['a.example.com'], days: 5 });
    installAll(book, [first, 'acme-http-01'], [renewed, 'acme-http-01']);
    expect(book.list()).toHaveLength(1);
    // The renewal is served even though it expires sooner: it replaced the first.
    expect(await servedSerial(book, 'a.example.com')).toBe(renewed.serialNumber);
  });
});

describe('CertificateBook.remove', () => {
  it('stops serving a removed certificate and falls back to the next candidate', async () => {
    const book = new CertificateBook();
    const wildcard = await ca.issue({ names: ['*.example.com'] });
    const exact = await ca.issue({ names: ['app.example.com'] });
    book.install(wildcard, 'self-signed');
    const installed = book.install(exact, 'file');
    expect(book.remove(installed)).toBe(true);
    expect(book.remove(installed)).toBe(false);
    expect(await servedSerial(book, 'app.example.com')).toBe(wildcard.serialNumber);
    expect(book.list().map((entry) => entry.hosts)).toEqual([['*.example.com']]);
  });
});

describe('CertificateBook.select', () => {
  it('prefers the exact host over a wildcard, whatever the origin', async () => {
    const book = new CertificateBook();
    const wildcard = await ca.issue({ names: ['*.example.com'] });
    const exact = await ca.issue({ names: ['app.example.com'] });
    installAll(book, [wildcard, 'file'], [exact, 'self-signed']);
    expect(await servedSerial(book, 'app.example.com')).toBe(exact.serialNumber);
    expect(await servedSerial(book, 'other.example.com')).toBe(wildcard.serialNumber);
  });

  it('lets a wildcard cover exactly one label', async () => {
    const book = new CertificateBook();
    const wildcard = await ca.issue({ names: ['*.example.com'] });
    book.install(wildcard, 'file');
    expect(book.select('a.example.com')).toBeDefined();
    expect(book.select('a.b.example.com')).toBeUndefined();
    expect(book.select('example.com')).toBeUndefined();
  });

  it('prefers file > acme-dns-01 > acme-http-01 > self-signed, then the latest expiry', async () => {
    const book = new CertificateBook();
    const names = ['app.example.com'];
    const selfSigned = await ca.issue({ names, days: 300 });
    const http01 = await ca.issue({ names, days: 200 });
    const dns01Soon = await ca.issue({ names, days: 20 });
    const dns01Later = await otherCa.issue({ names: [...names, 'x.example.com'], days: 60 });
    installAll(book, [selfSigned, 'self-signed'], [http01, 'acme-http-01']);
    expect(await servedSerial(book, 'app.example.com')).toBe(http01.serialNumber);
    installAll(book, [dns01Soon, 'acme-dns-01'], [dns01Later, 'acme-dns-01']);
    expect(await servedSerial(book, 'app.example.com')).toBe(dns01Later.serialNumber);
    const file = await ca.issue({ names, days: 1 });
    book.install(file, 'file');
    expect(await servedSerial(book, 'app.example.com')).toBe(file.serialNumber);
  });

  it('never selects an expired certificate while a valid one exists, even a less preferred wildcard', async () => {
    let now = Date.now();
    const book = new CertificateBook({ clock: { now: () => now } });
    const expiring = await ca.issue({ names: ['app.example.com'], days: 2 });
    const wildcard = await ca.issue({ names: ['*.example.com'], days: 90 });
    installAll(book, [expiring, 'file'], [wildcard, 'self-signed']);
    expect(await servedSerial(book, 'app.example.com')).toBe(expiring.serialNumber);
    now += 3 * DAY;
    expect(await servedSerial(book, 'app.example.com')).toBe(wildcard.serialNumber);
    now += 100 * DAY;
    // Only expired ones left: the best of them, so the client's error says "expired", not an alert.
    expect(await servedSerial(book, 'app.example.com')).toBe(expiring.serialNumber);
  });

  it('lower-cases SNI names and drops a trailing dot', async () => {
    const book = new CertificateBook();
    const leaf = await ca.issue({ names: ['app.example.com'] });
    book.install(leaf, 'file');
    expect(book.select('APP.Example.COM.')).toBe(book.select('app.example.com'));
    expect(book.select('APP.Example.COM.')).toBeDefined();
  });

  it("serves the certificate covering the edge's own domain to unknown names and handshakes without SNI", async () => {
    const book = new CertificateBook({ defaultHost: 'tunnel.example.com' });
    const custom = await ca.issue({ names: ['shop.customer.org'] });
    const edge = await ca.issue({ names: ['tunnel.example.com', '*.tunnel.example.com'] });
    book.install(custom, 'acme-http-01');
    expect(book.select('unknown.test')).toBeUndefined();
    book.install(edge, 'file');
    expect(await servedSerial(book, 'unknown.test')).toBe(edge.serialNumber);
    expect(await servedSerial(book, undefined)).toBe(edge.serialNumber);
    expect(await servedSerial(book, 'shop.customer.org')).toBe(custom.serialNumber);
  });

  it('takes a wildcard for the edge domain as the default when nothing names the domain itself', async () => {
    const book = new CertificateBook({ defaultHost: 'tunnel.example.com' });
    const wildcard = await ca.issue({ names: ['*.tunnel.example.com'] });
    book.install(wildcard, 'file');
    expect(book.select(undefined)).toBe(book.select('a.tunnel.example.com'));
    expect(book.select(undefined)).toBeDefined();
  });

  it('has no default without a certificate for the edge domain (the handshake gets an alert)', async () => {
    const book = new CertificateBook({ defaultHost: 'tunnel.example.com' });
    book.install(await ca.issue({ names: ['shop.customer.org'] }), 'file');
    expect(book.select(undefined)).toBeUndefined();
    expect(book.defaultMaterial()).toBeUndefined();
    await expect(servedSerial(book, 'nobody.test')).rejects.toThrow();
  });

  it('tells subscribers when a certificate is installed, so a listener can refresh its no-SNI pair', async () => {
    const book = new CertificateBook({ defaultHost: 'tunnel.example.com' });
    const seen: (string | undefined)[] = [];
    const stop = book.onChange(() => seen.push(book.defaultMaterial()?.certPem));
    const edge = await ca.issue({ names: ['tunnel.example.com'] });
    book.install(edge, 'file');
    stop();
    book.install(await ca.issue({ names: ['tunnel.example.com'] }), 'self-signed');
    expect(seen).toEqual([edge.certPem]);
  });
});

describe('CertificateBook.covers', () => {
  it('answers a certificate naming the host (exact or wildcard), never the default, self-signed or expired', async () => {
    let now = Date.now();
    const book = new CertificateBook({ defaultHost: 'tunnel.example.com', clock: { now: () => now } });
    book.install(await ca.issue({ names: ['tunnel.example.com'], days: 90 }), 'file');
    expect(book.covers('shop.tunnel.example.com')).toBeUndefined();
    expect(book.covers('tunnel.example.com')).toBe(book.select(undefined));
    const wildcard = await ca.issue({ names: ['*.tunnel.example.com'], days: 2 });
    book.install(wildcard, 'acme-dns-01');
    expect(book.covers('Shop.tunnel.example.com.')).toBe(book.select('shop.tunnel.example.com'));
    expect(book.covers('a.b.tunnel.example.com')).toBeUndefined();
    now += 3 * DAY;
    expect(book.covers('shop.tunnel.example.com')).toBeUndefined();
    // ACME is preferred over self-signed: a self-signed wildcard does not stop an order.
    book.install(await ca.issue({ names: ['*.tunnel.example.com'], days: 90 }), 'self-signed');
    expect(book.select('shop.tunnel.example.com')).toBeDefined();
    expect(book.covers('shop.tunnel.example.com')).toBeUndefined();
  });
});
