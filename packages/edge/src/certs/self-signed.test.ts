import { chmodSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { useScratchDir } from '../../../../test/support/scratch-dir.js';
import { CertificateBook } from './certificate-book.js';
import { installSelfSigned, SELF_SIGNED_LEAF_DAYS } from './self-signed.js';
import { startSniServer, type SniServer } from './test-support/sni-server.js';
import { trustInstructions } from './trust-instructions.js';

const scratch = useScratchDir('burrow-self-signed-');
const DAY = 86_400_000;
let dirs = 0;
const servers: SniServer[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

function dataDir(): string {
  dirs += 1;
  return join(scratch.path, `data${dirs}`);
}

/** Handshakes trusting only `caFile`, verifying the name as browsers do; resolves to the served serial. */
async function verifiedSerial(book: CertificateBook, caFile: string, servername: string): Promise<string> {
  const server = await startSniServer(book);
  servers.push(server);
  return new Promise<string>((resolve, reject) => {
    const socket = connect(
      { host: '127.0.0.1', port: server.port, servername, ca: readFileSync(caFile) },
      () => {
        resolve(socket.getPeerCertificate().serialNumber);
        socket.destroy();
      },
    );
    socket.once('error', reject);
  });
}

describe('installSelfSigned', () => {
  it('makes a CA (key 0600) and a leaf for localhost and *.localhost that a client trusting the CA accepts for localhost', async () => {
    const dir = dataDir();
    const book = new CertificateBook({ defaultHost: 'localhost' });
    const result = await installSelfSigned({ dataDir: dir, domain: 'localhost', book });
    expect(result.caFile).toBe(join(dir, 'tls', 'burrow-dev-ca.pem'));
    expect(result.caCreated).toBe(true);
    expect(statSync(join(dir, 'tls', 'burrow-dev-ca-key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'tls', 'self-signed-key.pem')).mode & 0o777).toBe(0o600);
    expect(result.installed.origin).toBe('self-signed');
    expect([...result.installed.hosts].sort()).toEqual(['*.localhost', 'localhost']);
    const lifetime = result.installed.notAfter.getTime() - result.installed.notBefore.getTime();
    expect(lifetime).toBeLessThanOrEqual(397 * DAY);
    await expect(verifiedSerial(book, result.caFile, 'localhost')).resolves.toBe(result.serialNumber);
    // Clients refuse a wildcard right under a top-level name; the docs say to use dev.localhost.
    await expect(verifiedSerial(book, result.caFile, 'myapp.localhost')).rejects.toThrow(/altnames/);
  });

  it('serves <name>.dev.localhost to a client that trusts the CA and checks the name', async () => {
    const book = new CertificateBook({ defaultHost: 'dev.localhost' });
    const result = await installSelfSigned({ dataDir: dataDir(), domain: 'dev.localhost', book });
    await expect(verifiedSerial(book, result.caFile, 'myapp.dev.localhost')).resolves.toBe(
      result.serialNumber,
    );
  });

  it('covers <domain> and *.<domain> for another domain, and nothing deeper', async () => {
    const book = new CertificateBook();
    const result = await installSelfSigned({ dataDir: dataDir(), domain: 'tunnel.test', book });
    expect([...result.installed.hosts].sort()).toEqual(['*.tunnel.test', 'tunnel.test']);
    await expect(verifiedSerial(book, result.caFile, 'a.tunnel.test')).resolves.toBe(result.serialNumber);
    expect(book.select('a.b.tunnel.test')).toBeUndefined();
  });

  it('reuses the CA and the leaf across restarts', async () => {
    const dir = dataDir();
    const first = await installSelfSigned({ dataDir: dir, domain: 'localhost', book: new CertificateBook() });
    const caPem = readFileSync(first.caFile, 'utf8');
    const again = await installSelfSigned({ dataDir: dir, domain: 'localhost', book: new CertificateBook() });
    expect(again.caCreated).toBe(false);
    expect(again.leafIssued).toBe(false);
    expect(again.serialNumber).toBe(first.serialNumber);
    expect(readFileSync(again.caFile, 'utf8')).toBe(caPem);
  });

  it('makes an existing, looser tls/ directory private (0700)', async () => {
    const dir = dataDir();
    mkdirSync(join(dir, 'tls'), { recursive: true });
    chmodSync(join(dir, 'tls'), 0o755);
    await installSelfSigned({ dataDir: dir, domain: 'localhost', book: new CertificateBook() });
    expect(statSync(join(dir, 'tls')).mode & 0o777).toBe(0o700);
  });

  it('issues a new leaf from the same CA once the old one is in its last third, or the domain changed', async () => {
    const dir = dataDir();
    const first = await installSelfSigned({ dataDir: dir, domain: 'localhost', book: new CertificateBook() });
    const caPem = readFileSync(first.caFile, 'utf8');
    const late = { now: () => Date.now() + Math.ceil((SELF_SIGNED_LEAF_DAYS * 2) / 3 + 1) * DAY };
    const renewed = await installSelfSigned({
      dataDir: dir,
      domain: 'localhost',
      book: new CertificateBook(),
      clock: late,
    });
    expect(renewed.leafIssued).toBe(true);
    expect(renewed.serialNumber).not.toBe(first.serialNumber);
    expect(readFileSync(renewed.caFile, 'utf8')).toBe(caPem);
    const early = { now: () => Date.now() + Math.floor(SELF_SIGNED_LEAF_DAYS / 3) * DAY };
    const kept = await installSelfSigned({
      dataDir: dir,
      domain: 'localhost',
      book: new CertificateBook(),
      clock: early,
    });
    expect(kept.leafIssued).toBe(false);
    const moved = await installSelfSigned({ dataDir: dir, domain: 'dev.test', book: new CertificateBook() });
    expect(moved.leafIssued).toBe(true);
    expect([...moved.installed.hosts].sort()).toEqual(['*.dev.test', 'dev.test']);
  });
});

describe('trustInstructions', () => {
  it('names the CA file in a command for curl, Node, the agent, Debian, Chromium and macOS', () => {
    const text = trustInstructions({
      caFile: '/data/tls/burrow-dev-ca.pem',
      edgeUrl: 'https://dev.localhost:8443',
      tunnelUrl: 'https://app.dev.localhost:8443',
    });
    for (const expected of [
      'curl --cacert /data/tls/burrow-dev-ca.pem https://app.dev.localhost:8443/',
      '--server https://dev.localhost:8443 --ca /data/tls/burrow-dev-ca.pem',
      'NODE_EXTRA_CA_CERTS=/data/tls/burrow-dev-ca.pem',
      '--ca /data/tls/burrow-dev-ca.pem',
      'update-ca-certificates',
      'certutil -d sql:$HOME/.pki/nssdb',
      'security add-trusted-cert',
    ]) {
      expect(text.join('\n')).toContain(expected);
    }
  });
});
