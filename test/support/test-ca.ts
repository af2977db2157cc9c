/**
 * The one private certificate authority for tests (every package's tests and test/e2e): a CA
 * and leaves it signs for any DNS names and IP addresses and any validity, as PEM and, when
 * given a `dir`, as files. In process (@peculiar/x509 via the edge's issue-certificate), so no
 * openssl CLI and a few milliseconds per certificate. Nothing touches the system trust store.
 *
 *   const ca = await createTestCa({ dir });
 *   const leaf = await ca.issue({ names: ['*.localhost', 'localhost'], dir, basename: 'edge' });
 *   // ca.certFile (what a client trusts: --ca, ca:), leaf.certFile, leaf.keyFile,
 *   // leaf.serialNumber (upper-case hex, as getPeerCertificate() gives it)
 *   await ca.issue({ names: ['localhost'], days: -1 }); // already expired
 */
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createCa,
  issueLeaf,
  validityFor,
  type CaMaterial,
} from '../../packages/edge/src/certs/issue-certificate.js';

export interface TestCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  /** As `TLSSocket#getPeerCertificate().serialNumber` reports it. */
  readonly serialNumber: string;
}

/** A certificate also written as files (when `dir` was given). */
export interface TestCertificateFiles extends TestCertificate {
  readonly certFile: string;
  /** Mode 0600. */
  readonly keyFile: string;
}

export interface IssueOptions {
  /** DNS names and IP addresses for the SAN; the first is also the subject CN. */
  readonly names: readonly string[];
  /** Lifetime from now (default 30); negative gives an expired certificate. Ignored for `notBefore`/`notAfter` given. */
  readonly days?: number;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** Writes `<basename>.pem` and `<basename>-key.pem` into `dir`. */
  readonly dir?: string;
  /** Default a name unique in this process, so several certificates can share a dir. */
  readonly basename?: string;
}

export interface CaOptions {
  readonly name?: string;
  /** Default 365. */
  readonly days?: number;
  readonly dir?: string;
}

export interface TestCa extends TestCertificate {
  issue(options: IssueOptions & { readonly dir: string }): Promise<TestCertificateFiles>;
  issue(options: IssueOptions): Promise<TestCertificate>;
}

/** Labels files so several CAs and certificates can share one directory. */
let counter = 0;

function written(
  material: CaMaterial,
  dir: string | undefined,
  basename: string,
): TestCertificate | TestCertificateFiles {
  // PEM files end with a newline (as openssl writes them); readers compare the text.
  const certPem = material.certPem.endsWith('\n') ? material.certPem : `${material.certPem}\n`;
  const serialNumber = new X509Certificate(certPem).serialNumber;
  const pem = { certPem, keyPem: material.keyPem, serialNumber };
  if (dir === undefined) return pem;
  const certFile = join(dir, `${basename}.pem`);
  const keyFile = join(dir, `${basename}-key.pem`);
  writeFileSync(certFile, certPem);
  writeFileSync(keyFile, material.keyPem, { mode: 0o600 });
  return { ...pem, certFile, keyFile };
}

/** A CA written to a dir: its `certFile` is what a client trusts (`--ca`, `ca:`). */
export type TestCaFiles = TestCa & TestCertificateFiles;

export async function createTestCa(options: CaOptions & { readonly dir: string }): Promise<TestCaFiles>;
export async function createTestCa(options?: CaOptions): Promise<TestCa>;
export async function createTestCa(options: CaOptions = {}): Promise<TestCa> {
  const ca = await createCa(options.name ?? 'Burrow test CA', validityFor(options.days ?? 365));
  counter += 1;
  return {
    ...written(ca, options.dir, `test-ca-${counter}`),
    async issue(issue: IssueOptions) {
      const base = validityFor(issue.days ?? 30);
      const leaf = await issueLeaf(ca, {
        names: issue.names,
        notBefore: issue.notBefore ?? base.notBefore,
        notAfter: issue.notAfter ?? base.notAfter,
      });
      counter += 1;
      return written(leaf, issue.dir, issue.basename ?? `leaf-${counter}`);
    },
  } as TestCa;
}
