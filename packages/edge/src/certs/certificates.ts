/**
 * The seam between certificate sources and the TLS listener. Sources (a file pair, the
 * self-signed development CA, ACME orders) install certificates into one `CertificateBook`;
 * the HTTPS listener asks it for a `SecureContext` on every handshake, by SNI. The listener
 * never knows where a certificate came from, and sources never see a socket.
 */

import type { SecureContext } from 'node:tls';

/** Where a certificate came from, in order of preference for a host (see `preferenceOf`). */
export type CertificateOrigin = 'file' | 'acme-dns-01' | 'acme-http-01' | 'self-signed';

/** PEM text: the leaf first, then its chain; and its private key. */
export interface CertificateMaterial {
  readonly certPem: string;
  readonly keyPem: string;
}

/** One certificate as the book serves it. */
export interface InstalledCertificate {
  /** Lower-case DNS names from the certificate's SAN, wildcards as `*.example.com`. */
  readonly hosts: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The issuer's common name (or whole DN when it has none), for `certs list` and the API. */
  readonly issuer: string;
  readonly origin: CertificateOrigin;
  readonly context: SecureContext;
}

/** What the TLS listener calls on every handshake. */
export interface CertificateSelector {
  /**
   * From memory only, never waits: the best certificate for the SNI name (exact host before
   * wildcard; among equals the preferred origin, then the latest expiry), or the default
   * certificate when there is none for the name (or no SNI), or undefined when the edge
   * has nothing to offer (the handshake then fails with an alert).
   */
  select(serverName: string | undefined): SecureContext | undefined;
  /**
   * The certificate whose names really cover `serverName` (exact or wildcard), never the
   * default as a fallback, nor a self-signed or expired one: undefined means on-demand may be
   * asked for it (the listener) and an ACME order may be placed (certs/acme).
   */
  covers(serverName: string): SecureContext | undefined;
}

/**
 * Obtains a certificate for a name the book had none for, when the edge is responsible for
 * that name (a reserved tunnel name, a verified custom domain, a live tunnel). Resolves to
 * undefined, quickly and without any order, for every other name; never rejects.
 */
export interface OnDemandCertificates {
  obtain(serverName: string): Promise<SecureContext | undefined>;
}

/**
 * Where sources put what they obtained. `install` parses and checks the pair (key matches,
 * SAN present) and throws a `TunnelError` with a stable code when it is unusable, leaving
 * whatever was served before in place; installing a certificate with the same origin and
 * the same hosts replaces the older one (renewal, file reload) without a gap.
 */
export interface CertificateSink {
  install(material: CertificateMaterial, origin: CertificateOrigin): InstalledCertificate;
  /**
   * Stops serving a certificate `install` returned (a file pair whose names changed,
   * `certs remove`); false when it was no longer installed.
   */
  remove(certificate: InstalledCertificate): boolean;
  /** Everything installed, for `certs list`, the API and renewal. */
  list(): readonly InstalledCertificate[];
}
