/**
 * ACME HTTP-01 on demand against Debian's Pebble: a real edge (in process, with its real
 * store and plain listener, which Pebble's VA reaches for the challenge), real orders, and
 * each certificate proven over real TLS trusting only Pebble's root. The certificate and its
 * key are read back from the store (the key unsealed with the edge secret).
 */
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeySeal } from '../../packages/edge/src/certs/key-seal.js';
import { SecureContextSink } from '../../packages/edge/src/certs/test-support/secure-context-sink.js';
import { loadEdgeSecret } from '../../packages/edge/src/edge-secret.js';
import { EdgeServer, loadEdgeConfig } from '../../packages/edge/src/index.js';
import { DEFAULT_USER_ID, openSqliteStore, type Store } from '../../packages/edge/src/store/index.js';
import { stopAll, tempDir } from './harness.js';
import { freeTcpPort } from './support/free-port.js';
import { Pebble } from './support/pebble.js';
import { connectTrusting } from './support/tls-proof.js';

const DOMAIN = 'burrow.test';
let pebble: Pebble;
let edge: EdgeServer;
let sink: SecureContextSink;
let dir = '';
let root = '';

async function openStore(): Promise<Store> {
  return openSqliteStore({ file: join(dir, 'burrow.db') });
}

beforeAll(async () => {
  dir = tempDir();
  const port = await freeTcpPort();
  pebble = await Pebble.start({ httpPort: port });
  root = await pebble.root();
  // Data the edge finds at start: a reserved name and a verified custom domain routed to it.
  const seed = await openStore();
  await seed.reserveName({ name: 'shop', userId: DEFAULT_USER_ID });
  await seed.addDomain({ hostname: 'www.shop-example.org', userId: DEFAULT_USER_ID, tunnelName: 'shop' });
  await seed.markDomainVerified('www.shop-example.org');
  await seed.close();
  const config = loadEdgeConfig({
    flags: {
      listen: `127.0.0.1:${port}`,
      domain: DOMAIN,
      data: dir,
      logLevel: 'silent',
      acmeEmail: 'ops@burrow.test',
      acmeDirectory: pebble.directoryUrl,
      acmeCaFile: pebble.tlsCaFile,
    },
    env: {},
    cwd: dir,
  });
  sink = new SecureContextSink();
  edge = await EdgeServer.start({ config, certificates: sink });
}, 60_000);

afterAll(async () => {
  await edge?.close();
  await pebble?.stop();
  await stopAll();
});

/** The stored certificate for `name`, with its key unsealed, proven against Pebble's root. */
async function expectServedCertificate(name: string): Promise<X509Certificate> {
  const stored = await edge.store.getCertificate(name);
  expect(stored?.certPem, `no certificate stored for ${name}: ${stored?.lastError}`).toBeTruthy();
  const keyPem = new KeySeal(await loadEdgeSecret(dir)).open(stored!.keySealed!);
  expect(stored!.keySealed).not.toContain('PRIVATE KEY');
  const proof = await connectTrusting({ certPem: stored!.certPem!, keyPem }, root, name);
  expect(proof.subjectAltName).toContain(`DNS:${name}`);
  const leaf = new X509Certificate(stored!.certPem!);
  expect(leaf.checkHost(name)).toBe(name);
  expect(stored).toMatchObject({ hosts: [name], origin: 'acme-http-01', lastError: null, failures: 0 });
  return leaf;
}

describe('ACME HTTP-01 on demand with Pebble', () => {
  it('orders, stores and installs a certificate for a reserved tunnel name', async () => {
    const context = await edge.acme!.obtain('shop.burrow.test');
    expect(context, pebble.log().slice(-2000)).toBeDefined();
    await expectServedCertificate('shop.burrow.test');
    expect(sink.list().map((c) => c.hosts)).toContainEqual(['shop.burrow.test']);
    // Installed once: asking again answers from memory, without a second order.
    expect(await edge.acme!.obtain('SHOP.burrow.test.')).toBe(context);
    expect(sink.installs).toHaveLength(1);
  });

  it('orders one certificate for a verified custom domain, however many handshakes ask at once', async () => {
    const before = sink.installs.length;
    const contexts = await Promise.all(
      Array.from({ length: 20 }, () => edge.acme!.obtain('www.shop-example.org')),
    );
    expect(new Set(contexts).size).toBe(1);
    expect(contexts[0]).toBeDefined();
    expect(sink.installs.length - before).toBe(1);
    await expectServedCertificate('www.shop-example.org');
  });

  it('makes no order and no store write for 1,000 random SNI names', async () => {
    const rows = await edge.store.listCertificates();
    const installs = sink.installs.length;
    const names = Array.from({ length: 1000 }, (_, i) =>
      i % 2 === 0 ? `r${i}x${Math.random().toString(36).slice(2, 10)}.${DOMAIN}` : `www.random${i}.example.com`,
    );
    const results = await Promise.all(names.map((name) => edge.acme!.obtain(name)));
    expect(results.every((r) => r === undefined)).toBe(true);
    expect(await edge.store.listCertificates()).toEqual(rows);
    expect(sink.installs.length).toBe(installs);
  });

  it('renews in the last third of the lifetime, serving the old certificate until the new one is in', async () => {
    const old = await edge.store.getCertificate('shop.burrow.test');
    const oldLeaf = new X509Certificate(old!.certPem!);
    // Not due yet: the pass orders nothing.
    await edge.acme!.renewDue();
    expect((await edge.store.getCertificate('shop.burrow.test'))?.certPem).toBe(old!.certPem);
    await edge.store.requestCertificateRenewal('shop.burrow.test');
    expect(await edge.acme!.obtain('shop.burrow.test')).toBeDefined();
    await edge.acme!.renewDue();
    const leaf = await expectServedCertificate('shop.burrow.test');
    expect(leaf.serialNumber).not.toBe(oldLeaf.serialNumber);
    expect(sink.list().filter((c) => c.hosts[0] === 'shop.burrow.test')).toHaveLength(1);
  });
});
