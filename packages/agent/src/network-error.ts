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
    default: {
      const message = err instanceof Error && err.message !== '' ? err.message : String(err);
      return `${peer}: ${message}${code !== undefined && !message.includes(code) ? ` (${code})` : ''}`;
    }
  }
}

/** A failure reaching the edge: always TUN_ERR_CONNECT_FAILED (retryable). */
export function describeNetworkError(err: unknown, peer: string): TunnelError {
  if (err instanceof TunnelError) return err;
  return new TunnelError('TUN_ERR_CONNECT_FAILED', networkReason(err, peer), { cause: err });
}

/** A failure reaching the local service, mapped to the ORIGIN_* code the edge turns into 502/504. */
export function describeOriginError(err: unknown, peer: string): TunnelError {
  if (err instanceof TunnelError) return err;
  const kind = classifyNetworkError(err);
  const code: ErrorCode =
    kind === 'refused'
      ? 'TUN_ERR_ORIGIN_REFUSED'
      : kind === 'timeout'
        ? 'TUN_ERR_ORIGIN_TIMEOUT'
        : 'TUN_ERR_ORIGIN_ERROR';
  return new TunnelError(code, networkReason(err, peer), { cause: err });
}
