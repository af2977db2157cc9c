/**
 * `httpsRedirect` on the plain listener: which requests get a 308 to the same host and path
 * over HTTPS. ACME HTTP-01 challenges are never redirected (the CA fetches them over plain
 * HTTP), and in `tunnels` mode the edge's own host (agent endpoint, API, health) stays on
 * plain HTTP for agents on an internal network, and a host that is none of ours keeps its 404
 * (a redirect would reflect any Host a client sends).
 */

import type { ServerResponse } from 'node:http';
import type { Authority } from './request-authority.js';

export type HttpsRedirectMode = 'tunnels' | 'all' | 'off';

export const ACME_CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

/** The `Location` for a plain-HTTP request, or null when it is served where it is. */
export function httpsRedirectLocation(
  mode: HttpsRedirectMode,
  /** `custom-domain`: an `unknown-host` route the custom domains resolved to a tunnel. */
  route: { readonly kind: 'tunnel' | 'edge' | 'unknown-host' | 'custom-domain' },
  authority: Authority | null,
  path: string,
  httpsPort: number,
): string | null {
  if (mode === 'off' || authority === null) return null;
  if ((route.kind === 'edge' || route.kind === 'unknown-host') && mode !== 'all') return null;
  if (path.startsWith(ACME_CHALLENGE_PREFIX)) return null;
  const port = httpsPort === 443 ? '' : `:${httpsPort}`;
  return `https://${authority.host}${port}${path}`;
}

/** 308 keeps the method and body, so a webhook POST is not turned into a GET. Answers the body bytes. */
export function sendHttpsRedirect(res: ServerResponse, location: string, requestId?: string): number {
  const body = `Moved to ${location}\n`;
  const length = Buffer.byteLength(body);
  res.writeHead(308, {
    Location: location,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': length,
    ...(requestId === undefined ? {} : { 'X-Request-Id': requestId }),
  });
  res.end(body);
  return length;
}
