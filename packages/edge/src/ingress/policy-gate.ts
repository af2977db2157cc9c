/**
 * Applies a tunnel's access policy to a viewer request before anything reaches the agent:
 * either the request goes on (credentials stripped, headers edited) or the edge answers.
 * The viewer's hop-by-hop headers come off first, so the owner's edits are never undone.
 */

import type { IncomingMessage } from 'node:http';
import { clientAddressOf } from '../listeners/client-address.js';
import { evaluate, type RespondDecision, type TunnelPolicy } from '../policy/index.js';
import { viewerRequestHeaders, type UpgradeOptions } from './headers.js';
import type { TunnelRoute } from './tunnel-request.js';

export type { RespondDecision };

/** What a request becomes after the policy: the path and headers to forward, and response edits. */
export interface Admitted {
  path: string;
  headers: string[];
  editResponse(headers: string[]): string[];
}

const NO_POLICY_EDIT = (headers: string[]): string[] => headers;

/** The forwarding path for a policy-rewritten target: the `/t/<name>` prefix comes off again. */
function withoutPrefix(target: string, prefix: string | null): string {
  if (prefix === null || !target.startsWith(prefix)) return target;
  const rest = target.slice(prefix.length);
  return rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest;
}

/** `policy` is the request's, looked up once by `resolveRequest`; null means none. */
export function admit(
  policy: TunnelPolicy | null,
  req: IncomingMessage,
  route: TunnelRoute,
  secure: boolean,
  options: UpgradeOptions = { upgrade: false },
): { admitted: Admitted } | { refused: RespondDecision } {
  const headers = viewerRequestHeaders(req.rawHeaders, options, req.httpVersionMajor === 2);
  if (!policy) return { admitted: { path: route.path, headers, editResponse: NO_POLICY_EDIT } };
  const decision = evaluate(policy, {
    remoteAddress: clientAddressOf(req),
    method: req.method ?? 'GET',
    path: req.url ?? '/',
    headers,
    secure,
  });
  if (decision.action === 'respond') return { refused: decision };
  const { setCookie, responseHeaderEdit } = decision;
  return {
    admitted: {
      path: withoutPrefix(decision.path, route.prefix),
      headers: decision.requestHeaders,
      editResponse: (headers) => {
        const out = responseHeaderEdit(headers);
        if (setCookie !== undefined) out.push('Set-Cookie', setCookie);
        return out;
      },
    },
  };
}

/** The policy's answer as a flat header list with length, code and request id. */
export function refusalHeaders(decision: RespondDecision, requestId: string): string[] {
  return [
    ...decision.headers,
    'Content-Length',
    String(Buffer.byteLength(decision.body)),
    'Cache-Control',
    'no-store',
    'X-Burrow-Error',
    decision.code,
    'X-Request-Id',
    requestId,
  ];
}
