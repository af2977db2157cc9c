/**
 * ACME problem documents (RFC 8555 §6.7) into stable Burrow codes. acme-client v5 throws
 * plain `Error(detail)` and drops the problem `type`, so one response interceptor on its
 * axios instance prefixes each problem's detail with `[type]`; `acmeFailure` reads it back.
 * The interceptor only rewrites `detail` text: acme-client's own badNonce retry reads `type`.
 */
import * as acme from 'acme-client';
import { TunnelError } from '@burrow/protocol';

const PREFIX = 'urn:ietf:params:acme:error:';
const TAGGED = /\[urn:ietf:params:acme:error:(\w+)\]/;

/**
 * Problems that another try cannot fix without the operator: ordering again would only burn
 * CA quota. A failed challenge (`unauthorized`, `incorrectResponse`, `dns`, `connection`:
 * a 404, a slow secondary's stale TXT) and `caa` (DNS changes) may pass next time: retried.
 */
const FINAL = new Set([
  'rejectedIdentifier',
  'malformed',
  'unsupportedIdentifier',
  'invalidContact',
  'unsupportedContact',
  'accountDoesNotExist',
]);

interface Problem {
  type?: unknown;
  detail?: unknown;
  subproblems?: unknown;
}

function tag(problem: Problem | undefined): void {
  if (problem === undefined || typeof problem.type !== 'string' || !problem.type.startsWith(PREFIX)) return;
  const detail = typeof problem.detail === 'string' ? problem.detail : '';
  if (!detail.startsWith('[')) problem.detail = `[${problem.type}] ${detail}`;
}

let installed = false;

/** Installs the tagging interceptor once per process (acme-client has one axios instance). */
export function tagAcmeProblems(): void {
  if (installed) return;
  installed = true;
  acme.axios.interceptors.response.use((response) => {
    const data = response.data as (Problem & { error?: Problem }) | undefined;
    if (data !== null && typeof data === 'object') {
      tag(data);
      // A failed challenge or authorization carries its problem in `error`.
      tag(data.error);
    }
    return response;
  });
}

/** The ACME problem type (without its URN prefix) in an error's message, if any. */
export function problemType(err: unknown): string | undefined {
  const message = err instanceof Error ? err.message : String(err);
  return TAGGED.exec(message)?.[1];
}

/** Any failure of an order as a TunnelError with TUN_ERR_ACME_REJECTED, _RATE_LIMITED or _ORDER_FAILED. */
export function acmeFailure(name: string, err: unknown): TunnelError {
  if (err instanceof TunnelError && err.code.startsWith('TUN_ERR_ACME_')) return err;
  const message = err instanceof Error ? err.message : String(err);
  const type = problemType(err);
  if (type === 'rateLimited') {
    return new TunnelError('TUN_ERR_ACME_RATE_LIMITED', `the CA rate-limits orders for ${name}: ${message}`, {
      cause: err,
    });
  }
  if (type !== undefined && FINAL.has(type)) {
    return new TunnelError('TUN_ERR_ACME_REJECTED', `the CA refuses to issue for ${name}: ${message}`, {
      cause: err,
    });
  }
  return new TunnelError('TUN_ERR_ACME_ORDER_FAILED', `the ACME order for ${name} failed: ${message}`, {
    cause: err,
  });
}
