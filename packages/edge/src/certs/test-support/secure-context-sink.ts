/**
 * A `CertificateSink` for tests until the certificate book lands: it makes a real
 * `SecureContext` from each pair (so a bad pair fails as it would in the book) and keeps
 * what was installed, replacing an older one with the same origin and hosts. Tests prove
 * certificates by serving them over real TLS, not by what this records.
 */
import { createSecureContext } from 'node:tls';
import { pemFacts } from '../acme/pem-facts.js';
import type {
  CertificateMaterial,
  CertificateOrigin,
  CertificateSink,
  InstalledCertificate,
} from '../certificates.js';

export class SecureContextSink implements CertificateSink {
  readonly installs: { material: CertificateMaterial; installed: InstalledCertificate }[] = [];
  #current: InstalledCertificate[] = [];

  install(material: CertificateMaterial, origin: CertificateOrigin): InstalledCertificate {
    const facts = pemFacts(material.certPem);
    const installed: InstalledCertificate = {
      ...facts,
      origin,
      context: createSecureContext({ cert: material.certPem, key: material.keyPem }),
    };
    const same = (other: InstalledCertificate): boolean =>
      other.origin === origin && other.hosts.join(',') === facts.hosts.join(',');
    this.#current = [...this.#current.filter((other) => !same(other)), installed];
    this.installs.push({ material, installed });
    return installed;
  }

  list(): readonly InstalledCertificate[] {
    return this.#current;
  }
}
