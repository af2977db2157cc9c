/**
 * Certificates for the HTTPS listener's tests: a CA and one leaf from the shared test CA
 * (`test/support/test-ca.ts`) in a temp dir of their own, and a `CertificateSelector` that
 * serves the leaf for every name. Test-only.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { createTestCa } from '../../../../../test/support/test-ca.js';
import type { CertificateSelector } from '../../certs/certificates.js';

export interface TestCertificates {
  /** PEM of the CA that signed the leaf, and its file (curl --cacert). */
  readonly caPem: string;
  readonly caFile: string;
  readonly certPem: string;
  readonly keyPem: string;
  /** Removes the files. */
  remove(): void;
}

/** A CA and a leaf for `hosts` (DNS names, wildcards allowed). */
export async function makeTestCertificates(hosts: readonly string[]): Promise<TestCertificates> {
  const dir = mkdtempSync(join(tmpdir(), 'burrow-https-test-'));
  const ca = await createTestCa({ dir });
  const leaf = await ca.issue({ names: hosts });
  return {
    caPem: ca.certPem,
    caFile: ca.certFile,
    certPem: leaf.certPem,
    keyPem: leaf.keyPem,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A selector serving the one leaf for every name (it is also the default). */
export function staticCertificates(certs: TestCertificates): { selector: CertificateSelector } {
  const context = createSecureContext({ cert: certs.certPem, key: certs.keyPem });
  return { selector: { select: () => context, covers: () => context } };
}
