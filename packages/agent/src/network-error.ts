/**
 * Turns socket-level failures (Node errno errors, undici errors, happy-eyeballs
 * AggregateErrors) into one short human reason, branching on `code`, never on message text.
 */

import { TunnelError, type ErrorCode } from '@burrow/protocol';

const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT']);

/** The errno-style code of an error, or of the first inner error of an AggregateError. */
export function networkErrorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  if (err instanceof AggregateError) {
    for (const inner of err.errors) {
      const innerCode = networkErrorCode(inner);
      if (innerCode !== undefined) return innerCode;
    }
  }
  const cause = (err as { cause?: unknown }).cause;
  return cause === undefined || cause === err ? undefined : networkErrorCode(cause);
}

export type NetworkFailure = 'refused' | 'timeout' | 'other';

export function classifyNetworkError(err: unknown): NetworkFailure {
  const code = networkErrorCode(err);
  if (code === 'ECONNREFUSED') return 'refused';
  if (code !== undefined && TIMEOUT_CODES.has(code)) return 'timeout';
  return 'other';
}

/** "connection refused by 127.0.0.1:3000", "cannot resolve db.local", ... */
export function networkReason(err: unknown, peer: string): string {
  const code = networkErrorCode(err);
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused by ${peer}`;
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return `connection reset by ${peer}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve the host of ${peer}`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${peer} is unreachable`;
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `timed out connecting to ${peer}`;
    default:
      return `${peer}: ${errorText(err)}`;
  }
}

/**
 * OpenSSL's certificate verification results as Node names them, plus Node's own name check:
 * the peer is there and speaks TLS, but its certificate is not one we may trust.
 */
const CERT_VERIFY_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export type TlsFailure = 'certificate' | 'handshake';

/** Whether `err` is a TLS failure: a certificate that failed verification, or another handshake failure. */
export function classifyTlsError(err: unknown): TlsFailure | null {
  const code = networkErrorCode(err);
  if (code === undefined) return null;
  if (CERT_VERIFY_CODES.has(code)) return 'certificate';
  return code.startsWith('ERR_SSL_') ? 'handshake' : null;
}

function errorText(err: unknown): string {
  const message = err instanceof Error && err.message !== '' ? err.message : String(err);
  const code = networkErrorCode(err);
  return `${message}${code !== undefined && !message.includes(code) ? ` (${code})` : ''}`;
}

/** "the certificate of <peer> failed verification: <why> (<CODE>)" / "TLS handshake with <peer> failed: ..." */
function tlsReason(kind: TlsFailure, err: unknown, peer: string): string {
  return kind === 'certificate'
    ? `the certificate of ${peer} failed verification: ${errorText(err)}`
    : `TLS handshake with ${peer} failed: ${errorText(err)}`;
}

/**
 * A failure reaching the edge, retryable either way: TUN_ERR_EDGE_TLS for a certificate that
 * failed verification (an operator may renew an expired one), else TUN_ERR_CONNECT_FAILED.
 */
export function describeNetworkError(err: unknown, peer: string): TunnelError {
  if (err instanceof TunnelError) return err;
  const tls = classifyTlsError(err);
  if (tls === 'certificate') {
    return new TunnelError('TUN_ERR_EDGE_TLS', tlsReason(tls, err, peer), { cause: err });
  }
  const reason = tls === null ? networkReason(err, peer) : tlsReason(tls, err, peer);
  return new TunnelError('TUN_ERR_CONNECT_FAILED', reason, { cause: err });
}

/** A failure reaching the local service, mapped to the ORIGIN_* code the edge turns into 502/504. */
export function describeOriginError(err: unknown, peer: string): TunnelError {
  if (err instanceof TunnelError) return err;
  const tls = classifyTlsError(err);
  if (tls !== null) return new TunnelError('TUN_ERR_ORIGIN_TLS', tlsReason(tls, err, peer), { cause: err });
  const kind = classifyNetworkError(err);
  const code: ErrorCode =
    kind === 'refused'
      ? 'TUN_ERR_ORIGIN_REFUSED'
      : kind === 'timeout'
        ? 'TUN_ERR_ORIGIN_TIMEOUT'
        : 'TUN_ERR_ORIGIN_ERROR';
  return new TunnelError(code, networkReason(err, peer), { cause: err });
}
