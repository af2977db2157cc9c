/**
 * The answers the edge gives instead of forwarding: 401, 403, 429 and the 302 that turns
 * `?burrow_token=` into a cookie. Bodies are short plain text that say what to do next;
 * they name the client's IP where that helps and never contain a credential.
 */

import { ERROR_CATALOG, type PolicyErrorCode } from '@burrow/protocol';
import type { Rate } from './token-bucket.js';

export interface RespondDecision {
  readonly action: 'respond';
  /** The catalog's status for `code`. */
  readonly status: number;
  /** Flat raw list; the caller adds Content-Length (the body is UTF-8). */
  readonly headers: string[];
  readonly body: string;
  /** Why the edge answered the request itself; sent in `X-Burrow-Error`. */
  readonly code: PolicyErrorCode;
  /**
   * Milliseconds to wait before writing this answer; non-zero only for wrong credentials,
   * to slow down guessing. Drop the wait if the client disconnects.
   */
  readonly delayMs: number;
}

/** Which credentials a tunnel accepts, to say so in a 401. */
export interface AuthMethods {
  readonly basic: boolean;
  readonly token: boolean;
}

const TEXT = ['Content-Type', 'text/plain; charset=utf-8', 'Cache-Control', 'no-store'];

function respond(code: PolicyErrorCode, body: string, extra: string[] = [], delayMs = 0): RespondDecision {
  const { status } = ERROR_CATALOG[code];
  return { action: 'respond', status, code, body, headers: [...extra, ...TEXT], delayMs };
}

/** `clientText` is an address as parsed, or the raw remote address when unparseable; shown trimmed. */
function shown(clientText: string): string {
  const clean = clientText.replace(/[^0-9A-Za-z.:%_-]/g, '').slice(0, 64);
  return clean === '' ? 'an unknown address' : clean;
}

export function ipDenied(clientText: string): RespondDecision {
  return respond(
    'POLICY_IP_DENIED',
    `403 Forbidden: this tunnel does not accept requests from your IP address, ${shown(clientText)}.\n`,
  );
}

export function rateLimited(clientText: string, rate: Rate, retryAfterSeconds: number): RespondDecision {
  const per = rate.perMs === 1_000 ? 'second' : 'minute';
  return respond(
    'POLICY_RATE_LIMITED',
    `429 Too Many Requests: this tunnel accepts ${rate.count} requests per ${per} from each address, ` +
      `and ${shown(clientText)} sent more. Retry in ${retryAfterSeconds} s.\n`,
    ['Retry-After', String(retryAfterSeconds)],
  );
}

export function authLocked(clientText: string, retryAfterSeconds: number): RespondDecision {
  return respond(
    'POLICY_AUTH_LOCKED',
    `429 Too Many Requests: too many wrong passwords or tokens from ${shown(clientText)}. ` +
      `Retry in ${retryAfterSeconds} s.\n`,
    ['Retry-After', String(retryAfterSeconds)],
  );
}

function howToAuthenticate(methods: AuthMethods): string {
  const ways: string[] = [];
  if (methods.basic) ways.push('Sign in with the username and password (HTTP basic auth).');
  if (methods.token) {
    ways.push(
      'Send the header "Authorization: Bearer <token>", or open this address in a browser with ' +
        '?burrow_token=<token> added once (a cookie then keeps you signed in).',
    );
  }
  return ways.join('\n');
}

/** 401 for a request that presented no credential (`wrong: false`) or a wrong one. */
export function unauthorized(methods: AuthMethods, wrong: boolean, delayMs: number): RespondDecision {
  const challenges: string[] = [];
  if (methods.basic) challenges.push('WWW-Authenticate', 'Basic realm="burrow", charset="UTF-8"');
  if (methods.token) challenges.push('WWW-Authenticate', 'Bearer realm="burrow"');
  const what = wrong ? 'the credentials sent are not accepted by this tunnel.' : 'this tunnel is protected.';
  return respond(
    wrong ? 'POLICY_AUTH_INVALID' : 'POLICY_AUTH_REQUIRED',
    `401 Unauthorized: ${what}\n${howToAuthenticate(methods)}\n`,
    challenges,
    delayMs,
  );
}

/** 302 back to the same address without the token, setting the cookie that stands for it. */
export function tokenRedirect(location: string, setCookie: string): RespondDecision {
  return respond('POLICY_TOKEN_REDIRECT', `Signed in; continue to ${location}\n`, [
    'Location',
    location,
    'Set-Cookie',
    setCookie,
  ]);
}
