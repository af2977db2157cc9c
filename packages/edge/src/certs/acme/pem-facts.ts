/** What the store and `certs list` keep about a certificate, read from its leaf. */
import { X509Certificate } from 'node:crypto';

export interface PemFacts {
  hosts: string[];
  notBefore: Date;
  notAfter: Date;
  /** The issuer's CN, or its whole DN when it has none. */
  issuer: string;
}

export function pemFacts(certPem: string): PemFacts {
  const leaf = new X509Certificate(certPem);
  const hosts = (leaf.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4).toLowerCase());
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(leaf.issuer)?.[1];
  return {
    hosts,
    notBefore: new Date(leaf.validFrom),
    notAfter: new Date(leaf.validTo),
    issuer: cn ?? leaf.issuer.replace(/\n/g, ', '),
  };
}
