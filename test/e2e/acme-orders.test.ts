/**
 * ACME HTTP-01 on demand against Debian's Pebble: a real edge (in process, with its real
 * store, certificate book and plain listener, which Pebble's VA reaches for the challenge),
 * real orders, and each certificate proven twice over real TLS trusting only Pebble's root:
 * served from the book by SNI (as the HTTPS listener does), and as stored (the key unsealed
 * with the edge secret).
 */
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realTimers, type Timers } from '../../packages/protocol/src/index.js';
import { KeySeal } from '../../packages/edge/src/certs/key-seal.js';
import { startSniServer, type SniServer } from '../../packages/edge/src/certs/test-support/sni-server.js';
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
let sni: SniServer;
/** Installs into the edge's book since it started. */
let installs = 0;
let dir = '';
let root = '';
/** The edge's clock runs this far ahead of real time: renewal is tested by moving it. */
let clockOffsetMs = 0;
const shiftedTimers: Timers = { ...realTimers, now: () => Date.now() + clockOffsetMs };

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
  edge = await EdgeServer.start({ config, timers: shiftedTimers });
  edge.certificates.onChange(() => (installs += 1));
  sni = await startSniServer(edge.certificates);
}, 60_000);

afterAll(async () => {
  await sni?.close();
  await edge?.close();
  await pebble?.stop();
  await stopAll();
});

/** A verified TLS connection to the book's SNI server (Pebble's root only); the leaf's serial. */
function handshake(name: string): Promise<{ serial: string; socket: TLSSocket }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: sni.port, servername: name, ca: root }, () =>
      resolve({ serial: socket.getPeerCertificate().serialNumber, socket }),
    );
    socket.once('error', reject);
  });
}

/** Served by SNI from the book and stored with a sealed key, both proven against Pebble's root. */
async function expectServedCertificate(name: string): Promise<X509Certificate> {
  const served = await handshake(name);
  served.socket.destroy();
  const stored = await edge.store.getCertificate(name);
  expect(stored?.certPem, `no certificate stored for ${name}: ${stored?.lastError}`).toBeTruthy();
  const keyPem = new KeySeal(await loadEdgeSecret(dir)).open(stored!.keySealed!);
  expect(stored!.keySealed).not.toContain('PRIVATE KEY');
  const proof = await connectTrusting({ certPem: stored!.certPem!, keyPem }, root, name);
  expect(proof.subjectAltName).toContain(`DNS:${name}`);
  const leaf = new X509Certificate(stored!.certPem!);
  expect(leaf.checkHost(name)).toBe(name);
  expect(stored).toMatchObject({ hosts: [name], origin: 'acme-http-01', lastError: null, failures: 0 });
  expect(served.serial).toBe(proof.serialNumber);
  return leaf;
}

describe('ACME HTTP-01 on demand with Pebble', () => {
  it('orders, stores and installs a certificate for a reserved tunnel name', async () => {
    const context = await edge.acme!.obtain('shop.burrow.test');
    expect(context, pebble.log().slice(-2000)).toBeDefined();
    await expectServedCertificate('shop.burrow.test');
    expect(edge.certificates.list().map((c) => c.hosts)).toContainEqual(['shop.burrow.test']);
    // Installed once: asking again answers from memory, without a second order.
    expect(await edge.acme!.obtain('SHOP.burrow.test.')).toBe(context);
    expect(installs).toBe(1);
  });

  it('orders one certificate for a verified custom domain, however many handshakes ask at once', async () => {
    const before = installs;
    const contexts = await Promise.all(
      Array.from({ length: 20 }, () => edge.acme!.obtain('www.shop-example.org')),
    );
    expect(new Set(contexts).size).toBe(1);
    expect(contexts[0]).toBeDefined();
    expect(installs - before).toBe(1);
    await expectServedCertificate('www.shop-example.org');
  });

  it('makes no order and no store write for 1,000 random SNI names', async () => {
    const rows = await edge.store.listCertificates();
    const installsBefore = installs;
    const names = Array.from({ length: 1000 }, (_, i) =>
      i % 2 === 0
        ? `r${i}x${Math.random().toString(36).slice(2, 10)}.${DOMAIN}`
        : `www.random${i}.example.com`,
    );
    const results = await Promise.all(names.map((name) => edge.acme!.obtain(name)));
    expect(results.every((r) => r === undefined)).toBe(true);
    expect(await edge.store.listCertificates()).toEqual(rows);
    expect(installs).toBe(installsBefore);
  });

  it('renews in the last third of the lifetime without dropping a connection; new handshakes get the new one', async () => {
    const old = await edge.store.getCertificate('www.shop-example.org');
    const open = await handshake('www.shop-example.org');
    const oldLeaf = new X509Certificate(old!.certPem!);
    const lifetime = old!.notAfter!.getTime() - old!.notBefore!.getTime();
    const issuedAgo = Date.now() - old!.notBefore!.getTime();
    clockOffsetMs = lifetime * 0.6 - issuedAgo;
    await edge.acme!.renewDue();
    expect((await edge.store.getCertificate('www.shop-example.org'))?.certPem).toBe(old!.certPem);
    const installsBefore = installs;
    clockOffsetMs = lifetime * 0.7 - issuedAgo;
    await edge.acme!.renewDue();
    const leaf = await expectServedCertificate('www.shop-example.org');
    expect(leaf.serialNumber).not.toBe(oldLeaf.serialNumber);
    // The reserved name was due too: both renewed in the one pass, each replacing its old one.
    expect(installs - installsBefore).toBe(2);
    expect(edge.certificates.list().filter((c) => c.hosts[0] === 'www.shop-example.org')).toHaveLength(1);
    // The connection opened before the renewal still works, on the old certificate.
    expect(open.serial).toBe(oldLeaf.serialNumber);
    open.socket.write('still here');
    const [echo] = (await once(open.socket, 'data')) as [Buffer];
    expect(echo.toString()).toBe('still here');
    open.socket.destroy();
    clockOffsetMs = 0;
  });

  it('orders again at the next pass after `certs renew` marked a certificate', async () => {
    const old = await edge.store.getCertificate('shop.burrow.test');
    expect(await edge.store.requestCertificateRenewal('shop.burrow.test')).toBe(true);
    await edge.acme!.renewDue();
    const leaf = await expectServedCertificate('shop.burrow.test');
    expect(leaf.serialNumber).not.toBe(new X509Certificate(old!.certPem!).serialNumber);
    expect((await edge.store.getCertificate('shop.burrow.test'))?.renewRequested).toBe(false);
  });
});

describe('ACME with the CA unreachable', () => {
  it('records the error with a back-off, orders nothing more until then, and keeps serving plain HTTP', async () => {
    const dir2 = tempDir();
    const seed = await openSqliteStore({ file: join(dir2, 'burrow.db') });
    await seed.reserveName({ name: 'down', userId: DEFAULT_USER_ID });
    await seed.close();
    const closed = await freeTcpPort();
    const config = loadEdgeConfig({
      flags: {
        listen: '127.0.0.1:0',
        domain: DOMAIN,
        data: dir2,
        logLevel: 'silent',
        acmeEmail: 'ops@burrow.test',
        acmeDirectory: `https://127.0.0.1:${closed}/dir`,
      },
      env: {},
      cwd: dir2,
    });
    const down = await EdgeServer.start({ config });
    try {
      expect(await down.acme!.obtain('down.burrow.test')).toBeUndefined();
      const failed = await down.store.getCertificate('down.burrow.test');
      expect(failed).toMatchObject({ certPem: null, failures: 1 });
      expect(failed?.lastError).toMatch(/^TUN_ERR_ACME_ORDER_FAILED: /);
      expect(failed!.nextAttemptAt!.getTime()).toBeGreaterThan(Date.now() + 60_000);
      // Backing off: no new attempt, nothing written.
      expect(await down.acme!.obtain('down.burrow.test')).toBeUndefined();
      expect(await down.store.getCertificate('down.burrow.test')).toEqual(failed);
      const health = await request(`http://127.0.0.1:${down.port}/health`);
      expect(health.statusCode).toBe(200);
      await health.body.text();
    } finally {
      await down.close();
    }
  });
});

describe('ACME with a challenge the CA cannot validate', () => {
  it('records the failure with the normal back-off (TUN_ERR_ACME_ORDER_FAILED) and orders again after it', async () => {
    // Another edge, with its own store, on the same CA: Pebble validates on the first edge's
    // port, whose store has no token for this order, so the challenge fails (a 404).
    const dir2 = tempDir();
    const seed = await openSqliteStore({ file: join(dir2, 'burrow.db') });
    await seed.reserveName({ name: 'elsewhere', userId: DEFAULT_USER_ID });
    await seed.close();
    const config = loadEdgeConfig({
      flags: {
        listen: '127.0.0.1:0',
        domain: DOMAIN,
        data: dir2,
        logLevel: 'silent',
        acmeEmail: 'ops@burrow.test',
        acmeDirectory: pebble.directoryUrl,
        acmeCaFile: pebble.tlsCaFile,
      },
      env: {},
      cwd: dir2,
    });
    let offsetMs = 0;
    const other = await EdgeServer.start({
      config,
      timers: { ...realTimers, now: () => Date.now() + offsetMs },
    });
    try {
      expect(await other.acme!.obtain('elsewhere.burrow.test')).toBeUndefined();
      const failed = await other.store.getCertificate('elsewhere.burrow.test');
      expect(failed, pebble.log().slice(-2000)).toMatchObject({ certPem: null, failures: 1 });
      expect(failed?.lastError).toMatch(/^TUN_ERR_ACME_ORDER_FAILED: .*unauthorized/);
      const backOff = failed!.nextAttemptAt!.getTime() - failed!.lastAttemptAt!.getTime();
      expect(backOff).toBe(5 * 60_000);
      // Backing off: neither a handshake nor the renewal pass orders it yet.
      expect(await other.acme!.obtain('elsewhere.burrow.test')).toBeUndefined();
      await other.acme!.renewDue();
      expect(await other.store.getCertificate('elsewhere.burrow.test')).toEqual(failed);
      // After the back-off the renewal pass orders again; it fails again and backs off twice as long.
      offsetMs = backOff + 1_000;
      await other.acme!.renewDue();
      const again = await other.store.getCertificate('elsewhere.burrow.test');
      expect(again, pebble.log().slice(-2000)).toMatchObject({ certPem: null, failures: 2 });
      // The store stamps lastAttemptAt with its own (real) clock; the back-off runs on the edge's.
      const secondBackOff = again!.nextAttemptAt!.getTime() - (Date.now() + offsetMs);
      expect(secondBackOff).toBeGreaterThan(9 * 60_000);
      expect(secondBackOff).toBeLessThanOrEqual(10 * 60_000);
      const health = await request(`http://127.0.0.1:${other.port}/health`);
      expect(health.statusCode).toBe(200);
      await health.body.text();
    } finally {
      await other.close();
    }
  });
});
