/**
 * A BIND the edge refused over the tunnel's access policy, and keeping secrets out of the
 * edge's reason. The edge promises never to quote a password or token back; the agent
 * removes any it finds anyway, since the reason goes to a terminal, CI logs and JSON lines.
 */

import { TunnelError } from '@burrow/protocol';
import type { TunnelPolicy } from './config/index.js';

/**
 * TUN_ERR_BAD_MESSAGE for a BIND that carried a policy. Everything else in a BIND is the
 * agent's own making (ids, a name already checked as a DNS label, the edge's resume token),
 * so the policy the user wrote is what the edge found fault with. Not retryable.
 */
export class PolicyRefusedError extends TunnelError {
  /** The spec's id: the key under `tunnels:`, or `default` for `burrow http`. */
  readonly tunnelId: string;

  constructor(tunnelId: string, reason: string) {
    super('TUN_ERR_BAD_MESSAGE', `the edge refused the access settings of tunnel "${tunnelId}": ${reason}`);
    this.name = 'PolicyRefusedError';
    this.tunnelId = tunnelId;
  }
}

/**
 * Shorter secrets are left alone: a two-letter password occurs inside ordinary words, and
 * replacing every occurrence would garble the message while hiding next to nothing.
 */
const MIN_REDACTED_LENGTH = 4;

/** Passwords, the token and added header values (they may hold credentials), each also as the whole entry. */
export function policySecrets(policy: TunnelPolicy | null): string[] {
  if (policy === null) return [];
  const afterColon = (entry: string): string => entry.slice(entry.indexOf(':') + 1).trim();
  const secrets = [
    ...(policy.basicAuth ?? []).flatMap((entry) => [entry, afterColon(entry)]),
    ...(policy.authToken === undefined ? [] : [policy.authToken]),
    ...[...(policy.requestHeaderAdd ?? []), ...(policy.responseHeaderAdd ?? [])].map(afterColon),
  ];
  // The edge may quote values as JSON strings, where `"` and `\` come escaped.
  const forms = secrets.flatMap((secret) => [secret, JSON.stringify(secret).slice(1, -1)]);
  return [...new Set(forms)].filter((secret) => secret.length >= MIN_REDACTED_LENGTH);
}

/** `text` with every occurrence of each secret replaced by `***`, longest first so no fragment survives. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join('***');
  return out;
}
