/**
 * What the store keeps for ACME: the account, certificates with their order state, and
 * HTTP-01 challenge tokens. Private keys arrive and leave sealed (see certs/key-seal.ts):
 * the store never sees a key in clear, so a copied database does not leak one.
 */

/** Where a stored certificate came from; the same names as certs/certificates.ts. */
export type StoredCertificateOrigin = 'acme-http-01' | 'acme-dns-01';

export interface AcmeAccountRecord {
  directoryUrl: string;
  email: string;
  /** The account key PEM, sealed with the edge secret. */
  keySealed: string;
  /** The account URL the CA returned (its `kid`), or null before registration finished. */
  accountUrl: string | null;
  createdAt: Date;
}

export interface CertificateRecord {
  /** The order's name: one host, or `*.<domain>` for a wildcard. Unique. */
  name: string;
  /** Lower-case DNS names the certificate covers (or the order asks for). */
  hosts: string[];
  origin: StoredCertificateOrigin;
  /** The leaf then its chain, or null while no order has succeeded yet. */
  certPem: string | null;
  /** The private key PEM sealed with the edge secret, or null with `certPem`. */
  keySealed: string | null;
  notBefore: Date | null;
  notAfter: Date | null;
  issuer: string | null;
  /** The last order's failure, cleared by a success. */
  lastError: string | null;
  lastAttemptAt: Date | null;
  /** No new order before this time (back-off after failures), or null. */
  nextAttemptAt: Date | null;
  /** Failed orders since the last success: the back-off exponent. */
  failures: number;
  /** Set by `certs renew`: the renewal pass orders it at its next turn. */
  renewRequested: boolean;
}

export interface SaveCertificateInput {
  name: string;
  hosts: readonly string[];
  origin: StoredCertificateOrigin;
  certPem: string;
  keySealed: string;
  notBefore: Date;
  notAfter: Date;
  issuer: string;
}

export interface CertificateFailureInput {
  name: string;
  hosts: readonly string[];
  origin: StoredCertificateOrigin;
  error: string;
  /** Null: do not try again on its own (a non-retryable error). */
  nextAttemptAt: Date | null;
}

export interface SaveAcmeAccountInput {
  directoryUrl: string;
  email: string;
  keySealed: string;
  accountUrl: string | null;
}

/** The certificate and account half of the Store interface (see store.ts). */
export interface CertificateStore {
  getAcmeAccount(directoryUrl: string): Promise<AcmeAccountRecord | undefined>;
  /**
   * Keeps the account for a directory. The first account saved for a directory wins (two
   * edges registering at once end up using the same one); returns the one stored.
   */
  saveAcmeAccount(input: SaveAcmeAccountInput): Promise<AcmeAccountRecord>;

  getCertificate(name: string): Promise<CertificateRecord | undefined>;
  /** Every row, by name; `withCertificate` only those holding a certificate. */
  listCertificates(opts?: { withCertificate?: boolean }): Promise<CertificateRecord[]>;
  /**
   * Stores a freshly obtained certificate: replaces the PEM and key, clears the error,
   * failures, back-off, renewal request and order lock.
   */
  saveCertificate(input: SaveCertificateInput): Promise<CertificateRecord>;
  /**
   * Records a failed order: `lastError`, `lastAttemptAt` now, `nextAttemptAt`, failures + 1,
   * clears `renewRequested` (it was tried); a certificate already held stays. Releases the
   * order lock.
   */
  recordCertificateFailure(input: CertificateFailureInput): Promise<CertificateRecord>;
  /**
   * Takes the order lock for a name until `until`, creating the row when missing: true when
   * this holder has it now (free, expired, or already its own), false when another holder
   * does. Edges sharing a database thus order a name once.
   */
  claimCertificateOrder(
    input: { name: string; hosts: readonly string[]; origin: StoredCertificateOrigin },
    holder: string,
    until: Date,
  ): Promise<boolean>;
  /** Asks for a renewal at the next pass; false when no such certificate. */
  requestCertificateRenewal(name: string): Promise<boolean>;
  /** Deletes the row (the certificate stops being loaded at the next start); false when none. */
  removeCertificate(name: string): Promise<boolean>;

  /** Keeps an HTTP-01 key authorization until `expiresAt` (replacing one with the same token). */
  putAcmeChallenge(token: string, keyAuthorization: string, expiresAt: Date): Promise<void>;
  /** The key authorization for an unexpired token, or undefined. */
  getAcmeChallenge(token: string): Promise<string | undefined>;
  /** Deletes the token and every expired one. */
  deleteAcmeChallenge(token: string): Promise<void>;
}
