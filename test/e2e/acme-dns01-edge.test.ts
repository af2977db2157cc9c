/**
 * The DNS-01 wildcard as a running edge keeps it: an in-process edge started with the
 * `acme.dns` settings pointing at a real BIND `named` (RFC 2136 + TSIG) and a real Pebble
 * whose VA asks that named. At start, in the background, the edge orders `*.tunnel.test` +
 * `tunnel.test`, serves it on its HTTPS listener (proven trusting only Pebble's root),
 * makes no per-name HTTP-01 order for names under the domain, takes it from the store after a
 * restart, and renews it in the renewal pass at two thirds of its lifetime (injected clock).
 */
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realTimers, type Timers } from '../../packages/protocol/src/index.js';
import { EdgeServer, loadEdgeConfig } from '../../packages/edge/src/index.js';
import { DEFAULT_USER_ID, openSqliteStore } from '../../packages/edge/src/store/index.js';
import { stopAll, tempDir } from './harness.js';
import { startNamed, type NamedServer } from './support/named.js';
import { Pebble } from './support/pebble.js';

const DOMAIN = 'tunnel.test';
const WILDCARD = `*.${DOMAIN}`;
let named: NamedServer;
let pebble: Pebble;
let root = '';
let dir = '';
let clockOffsetMs = 0;
const shiftedTimers: Timers = { ...realTimers, now: () => Date.now() + clockOffsetMs };
const edges: EdgeServer[] = [];

beforeAll(async () => {
  named = await startNamed({ zones: [`${DOMAIN}.`] });
  // HTTP-01 validation goes to a closed port: an HTTP-01 order would fail and leave a row.
  pebble = await Pebble.start({ httpPort: 1, dnsServer: named.address });
  root = await pebble.root();
  dir = tempDir();
  const seed = await openSqliteStore({ file: join(dir, 'burrow.db') });
  await seed.reserveName({ name: 'shop', userId: DEFAULT_USER_ID });
  await seed.close();
}, 60_000);

afterAll(async () => {
  for (const edge of edges) await edge.close();
  await pebble?.stop();
  await named?.stop();
  await stopAll();
});

async function startEdge(): Promise<EdgeServer> {
  const config = loadEdgeConfig({
    flags: {
      listen: '127.0.0.1:0',
      httpsListen: '127.0.0.1:0',
      domain: DOMAIN,
      data: dir,
      logLevel: 'silent',
      acmeEmail: `ops@${DOMAIN}`,
      acmeDirectory: pebble.directoryUrl,
      acmeCaFile: pebble.tlsCaFile,
      acmeDnsServer: named.address,
      acmeDnsTsigKeyName: named.key.name,
    },
    env: { BURROW_ACME_DNS_TSIG_SECRET: named.key.secret },
    cwd: dir,
  });
  const edge = await EdgeServer.start({ config, timers: shiftedTimers });
  edges.push(edge);
  return edge;
}

/** Polls (bounded) until the edge's book holds the wildcard. */
async function wildcardInBook(edge: EdgeServer, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!edge.certificates.list().some((c) => c.hosts.includes(WILDCARD))) {
    if (Date.now() > deadline)
      throw new Error(`no wildcard in the book; pebble: ${pebble.log().slice(-1500)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A handshake with the edge's HTTPS listener trusting only Pebble's root: the leaf served. */
function served(edge: EdgeServer, servername: string): Promise<{ san: string; serial: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: edge.httpsPort!, servername, ca: root }, () => {
      const peer = socket.getPeerCertificate();
      resolve({ san: peer.subjectaltname ?? '', serial: peer.serialNumber });
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

describe('an edge with acme.dns settings', () => {
  let first: EdgeServer;
  let serial = '';

  it('obtains the *.<domain> wildcard by DNS-01 in the background at start and serves it by SNI', async () => {
    first = await startEdge();
    await wildcardInBook(first);
    for (const name of ['anything.tunnel.test', DOMAIN]) {
      const leaf = await served(first, name);
      expect(leaf.san).toContain('DNS:*.tunnel.test');
      expect(leaf.san).toContain('DNS:tunnel.test');
      serial = leaf.serial;
    }
    const stored = await first.store.getCertificate(WILDCARD);
    expect(stored).toMatchObject({ origin: 'acme-dns-01', lastError: null, failures: 0 });
  }, 60_000);

  it('makes no per-name HTTP-01 order for tunnel names under the domain', async () => {
    const leaf = await served(first, 'shop.tunnel.test');
    expect(leaf.serial).toBe(serial);
    expect(await first.acme!.obtain('shop.tunnel.test')).toBeDefined();
    const rows = await first.store.listCertificates();
    expect(rows.map((row) => row.name)).toEqual([WILDCARD]);
  });

  it('takes the wildcard from the store after a restart, without a new order', async () => {
    await first.close();
    edges.splice(edges.indexOf(first), 1);
    const again = await startEdge();
    expect((await served(again, 'other.tunnel.test')).serial).toBe(serial);
    const stored = await again.store.getCertificate(WILDCARD);
    expect(new X509Certificate(stored!.certPem!).serialNumber.toLowerCase()).toBe(serial.toLowerCase());
    first = again;
  }, 30_000);

  it('renews the wildcard in the renewal pass at two thirds of its lifetime', async () => {
    const old = await first.store.getCertificate(WILDCARD);
    const lifetime = old!.notAfter!.getTime() - old!.notBefore!.getTime();
    const issuedAgo = Date.now() - old!.notBefore!.getTime();
    clockOffsetMs = lifetime * 0.6 - issuedAgo;
    await first.acme!.renewDue();
    expect((await first.store.getCertificate(WILDCARD))?.certPem).toBe(old!.certPem);
    clockOffsetMs = lifetime * 0.7 - issuedAgo;
    await first.acme!.renewDue();
    const renewed = await first.store.getCertificate(WILDCARD);
    expect(renewed, pebble.log().slice(-1500)).toMatchObject({ origin: 'acme-dns-01', lastError: null });
    expect(renewed!.certPem).not.toBe(old!.certPem);
    const leaf = await served(first, 'late.tunnel.test');
    expect(leaf.serial).not.toBe(serial);
    expect(leaf.san).toContain('DNS:*.tunnel.test');
    expect(first.certificates.list().filter((c) => c.hosts.includes(WILDCARD))).toHaveLength(1);
    clockOffsetMs = 0;
  }, 60_000);
});
