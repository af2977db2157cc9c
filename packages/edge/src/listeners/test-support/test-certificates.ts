/**
 * A throwaway CA and a leaf certificate signed by it, made with the `openssl` CLI, for tests
 * that need real TLS: clients trust `caPem` (or `caFile`), the edge serves `certPem`/`keyPem`
 * through `staticCertificates`. Test-only.
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { CertificateSelector } from '../../certs/certificates.js';

export interface TestCertificates {
  /** PEM of the CA that signed the leaf. */
  readonly caPem: string;
  /** The CA's PEM as a file, for curl --cacert and friends. */
  readonly caFile: string;
  readonly certPem: string;
  readonly keyPem: string;
  /** Removes the files. */
  remove(): void;
}

function openssl(cwd: string, args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error('openssl is not installed: run scripts/setup-test-machine.sh');
    throw err;
  }
}

/** A CA and a leaf for `hosts` (DNS names, wildcards allowed), valid for two days. */
export function makeTestCertificates(hosts: readonly string[]): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'burrow-test-ca-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(
    dir,
    ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2'].concat([
      '-subj',
      '/CN=Burrow Test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
    ]),
  );
  openssl(dir, ['req', ...ec, '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', `/CN=${hosts[0]}`]);
  writeFileSync(join(dir, 'leaf.ext'), `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(',')}\n`);
  openssl(
    dir,
    ['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key'].concat([
      '-CAcreateserial',
      '-out',
      'leaf.pem',
      '-days',
      '2',
      '-extfile',
      'leaf.ext',
    ]),
  );
  const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
  return {
    caPem: read('ca.pem'),
    caFile: join(dir, 'ca.pem'),
    certPem: read('leaf.pem'),
    keyPem: read('leaf.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A selector serving one certificate for every name (it is also the default). */
export function staticCertificates(certs: TestCertificates): {
  selector: CertificateSelector;
  context: SecureContext;
} {
  const context = createSecureContext({ cert: certs.certPem, key: certs.keyPem });
  return { context, selector: { select: () => context } };
}
