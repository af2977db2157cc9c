/**
 * Real certificates for tests: a CA, and leaves it signs for any names and validity, as PEM
 * and (when asked) as files. Other tests import this (HTTPS listener, ACME, e2e): trust
 * `ca.certPem` (or `ca.certFile`) in the client, serve the leaf.
 *
 *   const ca = await createTestCa({ dir });
 *   const leaf = await ca.issue({ names: ['*.localhost', 'localhost'], days: 30, dir, basename: 'edge' });
 *   // leaf.certFile, leaf.keyFile, leaf.serialNumber (upper-case hex, as getPeerCertificate() gives it)
 */
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCa, issueLeaf, validityFor, type CaMaterial } from '../issue-certificate.js';

export interface TestCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  /** As `TLSSocket#getPeerCertificate().serialNumber` reports it. */
  readonly serialNumber: string;
  /** Set when `dir` was given. */
  readonly certFile?: string;
  readonly keyFile?: string;
}

export interface IssueOptions {
  readonly names: readonly string[];
  /** Lifetime from now (default 30); ignored when `notBefore`/`notAfter` are given. */
  readonly days?: number;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** Writes `<basename>.pem` and `<basename>-key.pem` (mode 0600) into `dir`. */
  readonly dir?: string;
  readonly basename?: string;
}

export interface TestCa extends TestCertificate {
  issue(options: IssueOptions): Promise<TestCertificate>;
}

function written(material: CaMaterial, dir: string | undefined, basename: string): TestCertificate {
  const serialNumber = new X509Certificate(material.certPem).serialNumber;
  if (dir === undefined) return { ...material, serialNumber };
  const certFile = join(dir, `${basename}.pem`);
  const keyFile = join(dir, `${basename}-key.pem`);
  writeFileSync(certFile, material.certPem);
  writeFileSync(keyFile, material.keyPem, { mode: 0o600 });
  return { ...material, serialNumber, certFile, keyFile };
}

let counter = 0;

export async function createTestCa(
  options: { name?: string; days?: number; dir?: string } = {},
): Promise<TestCa> {
  const ca = await createCa(options.name ?? 'Burrow test CA', validityFor(options.days ?? 365));
  return {
    ...written(ca, options.dir, 'test-ca'),
    async issue(issue) {
      const base = validityFor(issue.days ?? 30);
      const leaf = await issueLeaf(ca, {
        names: issue.names,
        notBefore: issue.notBefore ?? base.notBefore,
        notAfter: issue.notAfter ?? base.notAfter,
      });
      counter += 1;
      return written(leaf, issue.dir, issue.basename ?? `leaf-${counter}`);
    },
  };
}
