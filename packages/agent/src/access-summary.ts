/**
 * A tunnel's access settings as people read them at startup, one phrase each, without a
 * secret in any: basic-auth users without their passwords, "auth token" without the token,
 * added headers by name only (their values may be credentials).
 */

import type { TunnelSpec } from './config/index.js';
import { hostHeaderValue } from './host-header.js';

function beforeColon(entry: string): string {
  return entry.slice(0, Math.max(0, entry.indexOf(':')));
}

/** `-X-Powered-By +X-Robots-Tag`, in the order the edge applies them (removals first); null if none. */
function headerEdits(add: readonly string[] = [], remove: readonly string[] = []): string | null {
  const edits = [...remove.map((name) => `-${name}`), ...add.map((line) => `+${beforeColon(line)}`)];
  return edits.length === 0 ? null : edits.join(' ');
}

/**
 * E.g. `['basic auth (alice)', 'rate limit 10/s per client IP', 'Host header 127.0.0.1:5173']`;
 * empty when nothing is set.
 */
export function describeAccess(spec: Pick<TunnelSpec, 'policy' | 'hostHeader' | 'origin'>): string[] {
  const policy = spec.policy ?? {};
  const phrases: string[] = [];
  if (policy.basicAuth) phrases.push(`basic auth (${policy.basicAuth.map(beforeColon).join(', ')})`);
  if (policy.authToken !== undefined) phrases.push('auth token');
  if (policy.allowIp) phrases.push(`allow ${policy.allowIp.join(' ')}`);
  if (policy.denyIp) phrases.push(`deny ${policy.denyIp.join(' ')}`);
  if (policy.rateLimit !== undefined) phrases.push(`rate limit ${policy.rateLimit} per client IP`);
  const request = headerEdits(policy.requestHeaderAdd, policy.requestHeaderRemove);
  if (request !== null) phrases.push(`request headers ${request}`);
  const response = headerEdits(policy.responseHeaderAdd, policy.responseHeaderRemove);
  if (response !== null) phrases.push(`response headers ${response}`);
  if (policy.capture) {
    const { bodies, maxBytes } = policy.capture;
    phrases.push(bodies ? `capture headers and bodies (${maxBytes ?? 65_536} bytes)` : 'capture headers');
  }
  if (policy.serverTiming === true) phrases.push('Server-Timing');
  const host = hostHeaderValue(spec.hostHeader, spec.origin);
  if (host !== null) phrases.push(`Host header ${host}`);
  return phrases;
}
