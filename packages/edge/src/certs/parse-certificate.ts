/**
 * Reads and checks a certificate/key pair with node:crypto before the book serves it: the
 * DNS names in its SAN, its validity, its issuer, and that the key belongs to it. Anything
 * unusable is a TunnelError TUN_ERR_CERT_INVALID saying what is wrong.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { TunnelError } from '@burrow/protocol';
import type { CertificateMaterial } from './certificates.js';
import { normalizeHost } from './host-names.js';

export interface ParsedCertificate {
  readonly hosts: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly issuer: string;
  /** Upper-case hex, as `getPeerCertificate().serialNumber` gives it. */
  readonly serialNumber: string;
}

function invalid(message: string): TunnelError {
  return new TunnelError('TUN_ERR_CERT_INVALID', message);
}

/** A DNS name or a one-label wildcard; Node quotes SAN entries with odd characters, which fail this. */
const DNS_NAME = /^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

/** `DNS:a.example.com, IP Address:127.0.0.1, DNS:*.example.com` -> the DNS names, normalized. */
function dnsNames(subjectAltName: string | undefined): string[] {
  if (subjectAltName === undefined) return [];
  const names = subjectAltName
    .split(', ')
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => normalizeHost(entry.slice(4)))
    .filter((name) => DNS_NAME.test(name) && isIP(name) === 0);
  return [...new Set(names)];
}

/** The issuer's CN, or its whole DN on one line when it has none. */
function issuerName(issuer: string): string {
  const lines = issuer.split('\n');
  const cn = lines.find((line) => line.startsWith('CN='));
  return cn === undefined ? lines.join(', ') : cn.slice(3);
}

function readCertificate(certPem: string): X509Certificate {
  try {
    return new X509Certificate(certPem);
  } catch (err) {
    throw invalid(`the certificate is not a PEM X.509 certificate (${(err as Error).message})`);
  }
}

function readKey(keyPem: string): KeyObject {
  try {
    return createPrivateKey(keyPem);
  } catch (err) {
    throw invalid(`the private key is not an unencrypted PEM key (${(err as Error).message})`);
  }
}

export function parseCertificate(material: CertificateMaterial): ParsedCertificate {
  const cert = readCertificate(material.certPem);
  const key = readKey(material.keyPem);
  if (!cert.checkPrivateKey(key)) {
    throw invalid(`the private key does not match the certificate (serial ${cert.serialNumber})`);
  }
  const hosts = dnsNames(cert.subjectAltName);
  if (hosts.length === 0) {
    throw invalid(
      `the certificate (serial ${cert.serialNumber}) has no DNS name in its subject alternative names`,
    );
  }
  return {
    hosts,
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    issuer: issuerName(cert.issuer),
    serialNumber: cert.serialNumber,
  };
}
