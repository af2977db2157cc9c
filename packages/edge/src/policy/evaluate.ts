/**
 * The per-request decision: given a tunnel's compiled policy and a viewer's request head,
 * either forward it (with the tunnel's credentials cut out and header edits applied) or
 * answer it at the edge. Checks run in a fixed order, cheapest and least revealing first:
 * IP rules → rate limit → brute-force gate → credentials → forward.
 *
 * Synchronous and allocation-light; it mutates only the policy's limiter state. The
 * request's arrays are never modified.
 */

import { authenticate } from './authenticate.js';
import { clientKey, parseIp } from './cidr.js';
import type { TunnelPolicy } from './compile-policy.js';
import {
  authLocked,
  ipDenied,
  rateLimited,
  tokenRedirect,
  unauthorized,
  type RespondDecision,
} from './policy-responses.js';
import { isNavigation, TOKEN_NAME } from './request-credentials.js';

export interface PolicyRequest {
  /** The viewer's address as the socket reports it (IPv4, IPv6, mapped IPv4, with or without %zone). */
  readonly remoteAddress: string;
  readonly method: string;
  /**
   * The request target as the viewer sent it, query included (and any `/t/<name>` prefix,
   * so the redirect that removes `?burrow_token=` sends the browser back to the same place).
   */
  readonly path: string;
  /** Flat raw header list: [name, value, name, value, ...], as `IncomingMessage.rawHeaders`. */
  readonly headers: readonly string[];
  /** True when the viewer connected over HTTPS: the `burrow_token` cookie is then marked Secure. */
  readonly secure?: boolean;
}

export interface ForwardDecision {
  readonly action: 'forward';
  /**
   * The headers to send on: the request's, minus the tunnel's own credentials (a matching
   * Authorization header, the `burrow_token` cookie), then request header removals and
   * additions. Host is left as the viewer sent it (the agent may rewrite it, from its own config).
   */
  readonly requestHeaders: string[];
  /** The request target without `burrow_token` query parameters. */
  readonly path: string;
  /** Applies response header removals and additions to a response head's flat list. */
  readonly responseHeaderEdit: (headers: string[]) => string[];
  /** A Set-Cookie value to add to the response (token given in the query of a non-navigation request). */
  readonly setCookie?: string;
}

export type Decision = ForwardDecision | RespondDecision;

function cookieFor(value: string, secure: boolean): string {
  return `${TOKEN_NAME}=${value}; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

/**
 * Decides what happens to one request. Call it once per request (it counts the request
 * against the client's rate limit) before anything is sent to the agent. A `respond`
 * decision carries a `delayMs` the caller waits before answering.
 */
export function evaluate(policy: TunnelPolicy, request: PolicyRequest): Decision {
  const ip = parseIp(request.remoteAddress);
  const clientText = ip?.text ?? request.remoteAddress;
  if (!policy.ipRules.allows(ip)) return ipDenied(clientText);

  const key = clientKey(ip, request.remoteAddress);
  if (policy.rateLimiter !== null) {
    const taken = policy.rateLimiter.take(key);
    if (!taken.ok) return rateLimited(clientText, policy.rateLimiter.rate, taken.retryAfterSeconds);
  }

  let headers = request.headers;
  let path = request.path;
  let setCookie: string | undefined;
  if (policy.auth !== null && policy.authFailures !== null) {
    const gate = policy.authFailures.check(key);
    if (!gate.ok) return authLocked(clientText, gate.retryAfterSeconds);

    const outcome = authenticate(policy.auth, headers, path);
    const methods = { basic: policy.auth.basic.length > 0, token: policy.auth.token !== null };
    if (outcome.kind === 'missing') return unauthorized(methods, false, 0);
    if (outcome.kind === 'wrong') {
      const failure = policy.authFailures.recordFailure(key);
      return unauthorized(methods, true, failure.delayMs);
    }
    headers = outcome.headers;
    path = outcome.target;
    if (outcome.issueCookie !== null) {
      setCookie = cookieFor(outcome.issueCookie, request.secure === true);
      // A browser gets the token out of its address bar; an API client just gets its answer.
      if (isNavigation(request.method, request.headers)) return tokenRedirect(path, setCookie);
    }
  }

  const decision: ForwardDecision = {
    action: 'forward',
    requestHeaders: policy.requestHeaders.apply(headers),
    path,
    responseHeaderEdit: policy.responseHeaders.apply,
  };
  return setCookie === undefined ? decision : { ...decision, setCookie };
}
