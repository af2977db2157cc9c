/**
 * A DNS-01 wildcard order end to end: Pebble's VA asks a real BIND `named` (started here,
 * authoritative for tunnel.test.), the edge's RFC 2136 publisher writes the TXT values there
 * through the `Dns01Solver`, and the `*.tunnel.test` + `tunnel.test` certificate lands in a
 * real certificate book and the store, proven by SNI over TLS trusting only Pebble's root.
 * (A running edge places this order itself: acme-dns01-edge.test.ts.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realTimers } from '../../packages/protocol/src/index.js';
import { AcmeIssuer } from '../../packages/edge/src/certs/acme/acme-issuer.js';
import { CertificateOrders } from '../../packages/edge/src/certs/acme/certificate-orders.js';
import { Dns01Solver } from '../../packages/edge/src/certs/acme/dns01-solver.js';
import { OrderRateGuard } from '../../packages/edge/src/certs/acme/order-rate-guard.js';
import { CertificateBook } from '../../packages/edge/src/certs/certificate-book.js';
import { Rfc2136Publisher } from '../../packages/edge/src/certs/dns/index.js';
import { KeySeal } from '../../packages/edge/src/certs/key-seal.js';
import { startSniServer } from '../../packages/edge/src/certs/test-support/sni-server.js';
import { createLogger } from '../../packages/edge/src/index.js';
import { openSqliteStore, type Store } from '../../packages/edge/src/store/index.js';
import { stopAll, tempDir } from './harness.js';
import { startNamed, type NamedServer } from './support/named.js';
import { Pebble } from './support/pebble.js';

let named: NamedServer;
let pebble: Pebble;
let store: Store;

beforeAll(async () => {
  named = await startNamed({ zones: ['tunnel.test.'] });
  pebble = await Pebble.start({ httpPort: 1, dnsServer: named.address });
  store = await openSqliteStore({ file: join(tempDir(), 'burrow.db') });
}, 60_000);

afterAll(async () => {
  await store?.close();
  await pebble?.stop();
  await named?.stop();
  await stopAll();
});

describe('ACME DNS-01 wildcard order through named', () => {
  it('obtains *.tunnel.test and tunnel.test, installs them in the book, stores them sealed', async () => {
    const seal = new KeySeal(Buffer.alloc(32, 7));
    const log = createLogger('silent');
    const book = new CertificateBook({ defaultHost: 'tunnel.test' });
    const orders = new CertificateOrders({
      issuer: new AcmeIssuer({
        store,
        seal,
        directoryUrl: pebble.directoryUrl,
        email: 'ops@tunnel.test',
        caPem: readFileSync(pebble.tlsCaFile, 'utf8'),
        log,
        poll: { attempts: 20, minMs: 250, maxMs: 1_000 },
      }),
      store,
      seal,
      sink: book,
      guard: new OrderRateGuard({ clock: realTimers, perHour: 20, perDomainPerWeek: 20 }),
      timers: realTimers,
      log,
    });
    const publisher = new Rfc2136Publisher({
      server: { host: named.host, port: named.port },
      key: named.key,
      propagationTimeoutMs: 5_000,
      pollIntervalMs: 100,
    });
    const outcome = await orders.run(
      {
        name: '*.tunnel.test',
        hosts: ['*.tunnel.test', 'tunnel.test'],
        origin: 'acme-dns-01',
        solver: new Dns01Solver(publisher),
      },
      0,
    );
    expect(outcome.kind, JSON.stringify(outcome) + pebble.log().slice(-1500)).toBe('issued');
    const stored = await store.getCertificate('*.tunnel.test');
    expect(stored).toMatchObject({ origin: 'acme-dns-01', lastError: null });
    expect([...stored!.hosts].sort()).toEqual(['*.tunnel.test', 'tunnel.test']);
    expect(seal.open(stored!.keySealed!)).toContain('PRIVATE KEY');

    const root = await pebble.root();
    const sni = await startSniServer(book);
    try {
      for (const name of ['shop.tunnel.test', 'tunnel.test']) {
        const san = await new Promise<string>((resolve, reject) => {
          const socket = connect({ host: '127.0.0.1', port: sni.port, servername: name, ca: root }, () => {
            resolve(socket.getPeerCertificate().subjectaltname ?? '');
            socket.destroy();
          });
          socket.once('error', reject);
        });
        expect(san).toContain('DNS:*.tunnel.test');
      }
    } finally {
      await sni.close();
    }
  });
});
