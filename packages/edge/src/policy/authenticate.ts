/**
 * Checks a request's tunnel credentials (basic auth, bearer token, `?burrow_token=`,
 * `burrow_token` cookie) against a compiled policy, and cuts the tunnel's own credentials
 * out of the request so the origin never sees them. Any one configured method admits.
 */

import { matchesAnyDigest, type SecretDigester } from './secret-digest.js';
import {
  decodeBasic,
  findAuthorization,
  takeCookie,
  takeQueryParam,
  TOKEN_NAME,
  withoutHeaderAt,
} from './request-credentials.js';

/** The credential part of a compiled policy: digests only, never the secrets. */
export interface CompiledAuth {
  readonly digester: SecretDigester;
  /** Digests of the accepted `"user:pass"` strings; empty when basic auth is off. */
  readonly basic: readonly Buffer[];
  /** Digest of the token, and of the cookie value made from it; null when token auth is off. */
  readonly token: { readonly digest: Buffer; readonly cookieDigest: Buffer } | null;
}

export type AuthOutcome =
  | {
      readonly kind: 'accepted';
      /** The request's headers without the tunnel credentials. */
      readonly headers: readonly string[];
      /** The request target without `burrow_token`. */
      readonly target: string;
      /** Set when the token came in the query: the cookie value to hand the browser. */
      readonly issueCookie: string | null;
    }
  /** No credential for this tunnel was presented (a stale cookie counts as none). */
  | { readonly kind: 'missing' }
  /** A password or token was presented and was wrong: a guess, counted against the client. */
  | { readonly kind: 'wrong' };

export function authenticate(auth: CompiledAuth, headers: readonly string[], target: string): AuthOutcome {
  const { digester, basic, token } = auth;
  let guessed = false;
  let accepted = false;
  let issueCookie: string | null = null;

  const authorization = findAuthorization(headers);
  if (authorization !== null) {
    // Only a header in a scheme this tunnel uses is ours; any other belongs to the origin.
    let ours = false;
    if (authorization.scheme === 'basic' && basic.length > 0) {
      guessed = true;
      const userPass = decodeBasic(authorization.credentials);
      ours = userPass !== null && matchesAnyDigest(basic, digester.digest('basic', userPass));
    } else if (authorization.scheme === 'bearer' && token !== null) {
      guessed = true;
      ours = matchesAnyDigest([token.digest], digester.digest('token', authorization.credentials));
    }
    // A wrong one stays: it may be the origin's own credential when another method admits.
    if (ours) {
      accepted = true;
      headers = withoutHeaderAt(headers, authorization.index);
    }
  }

  if (token !== null) {
    const query = takeQueryParam(target, TOKEN_NAME);
    target = query.target;
    if (query.value !== null && !accepted) {
      guessed = true;
      if (matchesAnyDigest([token.digest], digester.digest('token', query.value))) {
        accepted = true;
        issueCookie = digester.cookieValue(query.value);
      }
    }
    const cookies = takeCookie(headers, TOKEN_NAME);
    headers = cookies.headers;
    // Cookie values are keyed digests, infeasible to guess, so a wrong one is not a
    // brute-force attempt: it is usually a cookie from before the token changed.
    if (!accepted) {
      for (const value of cookies.values) {
        if (matchesAnyDigest([token.cookieDigest], digester.digest('cookie', value))) accepted = true;
      }
    }
  }

  if (accepted) return { kind: 'accepted', headers, target, issueCookie };
  return guessed ? { kind: 'wrong' } : { kind: 'missing' };
}
