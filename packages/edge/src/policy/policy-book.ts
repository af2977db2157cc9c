/**
 * The compiled policy of every tunnel name on this edge. A reconnecting agent that sends
 * the same policy gets the same compiled object back, so rate-limit and brute-force
 * counters survive reconnects instead of resetting (an attacker cannot clear a lockout
 * by waiting for the agent to blink).
 */

import { randomBytes } from 'node:crypto';
import type { Clock } from '@burrow/protocol';
import { compilePolicy, type TunnelPolicy } from './compile-policy.js';
import { parsePolicySpec } from './policy-spec.js';

export class PolicyBook {
  private readonly entries = new Map<string, { json: string; policy: TunnelPolicy }>();
  private readonly clock: Clock;
  /** One key per edge process: cookies and credential digests are HMACs under it. */
  private readonly secret: Uint8Array;

  constructor(options: { clock: Clock; secret?: Uint8Array }) {
    this.clock = options.clock;
    this.secret = options.secret ?? randomBytes(32);
  }

  /**
   * Validates and compiles the policy a BIND asked for (throws TUN_ERR_BAD_MESSAGE naming
   * the field), or clears it when `raw` is null. Returns null for a tunnel without policy.
   */
  set(name: string, raw: Record<string, unknown> | null): TunnelPolicy | null {
    if (raw === null) {
      this.entries.delete(name);
      return null;
    }
    const spec = parsePolicySpec(raw);
    const json = JSON.stringify(spec);
    const existing = this.entries.get(name);
    if (existing?.json === json) return existing.policy;
    const policy = compilePolicy(spec, { clock: this.clock, secret: this.secret });
    if (policy.isOpen) {
      this.entries.delete(name);
      return null;
    }
    this.entries.set(name, { json, policy });
    return policy;
  }

  get(name: string): TunnelPolicy | null {
    return this.entries.get(name)?.policy ?? null;
  }
}
