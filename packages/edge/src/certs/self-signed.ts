/**
 * `--tls self-signed`: a development CA, made once and kept in `<dataDir>/tls/` (its key
 * mode 0600) so a browser or OS that trusts it keeps trusting the edge after a restart,
 * and a leaf it signs for `<domain>` and `*.<domain>`, installed with origin `self-signed`.
 * The leaf is reused across restarts and issued again at start when it is in the last
 * third of its life, was signed by another CA, or does not cover the domain. For local
 * development only: nobody but the people who chose to trust the CA will accept it.
 */
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '@burrow/protocol';
import type { CertificateMaterial, CertificateSink, InstalledCertificate } from './certificates.js';

/** Leaf lifetime; browsers refuse leaves valid for more than 398 days. */
export const SELF_SIGNED_LEAF_DAYS = 365;
const CA_DAYS = 3650;
const DAY_MS = 86_400_000;

export interface SelfSignedOptions {
  readonly dataDir: string;
  readonly domain: string;
  readonly book: CertificateSink;
  readonly clock?: Clock;
}

export interface SelfSignedResult {
  /** The CA certificate people trust. */
  readonly caFile: string;
  readonly caCreated: boolean;
  readonly leafIssued: boolean;
  readonly serialNumber: string;
  readonly installed: InstalledCertificate;
}

const FILES = {
  caCert: 'burrow-dev-ca.pem',
  caKey: 'burrow-dev-ca-key.pem',
  leafCert: 'self-signed.pem',
  leafKey: 'self-signed-key.pem',
} as const;

function readPair(dir: string, cert: string, key: string): CertificateMaterial | null {
  const certFile = join(dir, cert);
  const keyFile = join(dir, key);
  if (!existsSync(certFile) || !existsSync(keyFile)) return null;
  return { certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') };
}

function writePair(dir: string, cert: string, key: string, material: CertificateMaterial): void {
  // The key first and private from its first byte: never briefly world-readable.
  writeFileSync(join(dir, key), material.keyPem, { mode: 0o600 });
  chmodSync(join(dir, key), 0o600);
  writeFileSync(join(dir, cert), material.certPem, { mode: 0o644 });
}

function namesFor(domain: string): string[] {
  return [domain, `*.${domain}`];
}

/** The CA on disk when it is still usable, else null. */
function usableCa(material: CertificateMaterial | null, now: number): CertificateMaterial | null {
  if (material === null) return null;
  try {
    const cert = new X509Certificate(material.certPem);
    return cert.ca && new Date(cert.validTo).getTime() > now + SELF_SIGNED_LEAF_DAYS * DAY_MS
      ? material
      : null;
  } catch {
    return null;
  }
}

/** The leaf on disk when signed by `ca`, covering `names`, and not yet in its last third. */
function usableLeaf(
  leaf: CertificateMaterial | null,
  ca: CertificateMaterial,
  names: readonly string[],
  now: number,
): CertificateMaterial | null {
  if (leaf === null) return null;
  try {
    const cert = new X509Certificate(leaf.certPem);
    const from = new Date(cert.validFrom).getTime();
    const to = new Date(cert.validTo).getTime();
    const renewAt = from + ((to - from) * 2) / 3;
    const covered = names.every((name) => cert.subjectAltName?.split(', ').includes(`DNS:${name}`));
    return cert.verify(new X509Certificate(ca.certPem).publicKey) && covered && now < renewAt ? leaf : null;
  } catch {
    return null;
  }
}

export async function installSelfSigned(options: SelfSignedOptions): Promise<SelfSignedResult> {
  const now = (options.clock ?? Date).now();
  const dir = join(options.dataDir, 'tls');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode applies only to a directory it creates: an existing one is made private too.
  chmodSync(dir, 0o700);
  // Loaded only here: an edge without --tls self-signed never evaluates the X.509 library.
  const { createCa, issueLeaf, validityFor } = await import('./issue-certificate.js');

  let ca = usableCa(readPair(dir, FILES.caCert, FILES.caKey), now);
  const caCreated = ca === null;
  if (ca === null) {
    ca = await createCa(`Burrow development CA (${options.domain})`, validityFor(CA_DAYS, now));
    writePair(dir, FILES.caCert, FILES.caKey, ca);
  } else {
    // A CA key someone copied around with looser modes is made private again.
    chmodSync(join(dir, FILES.caKey), 0o600);
  }

  const names = namesFor(options.domain);
  let leaf = caCreated ? null : usableLeaf(readPair(dir, FILES.leafCert, FILES.leafKey), ca, names, now);
  const leafIssued = leaf === null;
  if (leaf === null) {
    leaf = await issueLeaf(ca, { names, ...validityFor(SELF_SIGNED_LEAF_DAYS, now) });
    writePair(dir, FILES.leafCert, FILES.leafKey, leaf);
  }
  const installed = options.book.install(leaf, 'self-signed');
  return {
    caFile: join(dir, FILES.caCert),
    caCreated,
    leafIssued,
    serialNumber: new X509Certificate(leaf.certPem).serialNumber,
    installed,
  };
}
