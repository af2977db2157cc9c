/**
 * Edge-wide limits on agents, so one key or one anonymous address cannot take the edge for
 * itself: live sessions per API key, tunnels per API key (across its sessions), and
 * anonymous tunnels per client address. Counted from the live sessions, so nothing drifts;
 * a session's count includes the BINDs it has in flight (see held-slots.ts), so a burst of
 * BINDs is checked against the same number the first one raised, before any await.
 */

import { TunnelError } from '@burrow/protocol';
import type { HeldSlots } from './held-slots.js';

export interface QuotaLimits {
  sessionsPerKey: number;
  tunnelsPerKey: number;
  anonymousTunnelsPerIp: number;
}

/** What the quota needs to know about a live session. */
export interface QuotaSubject {
  readonly keyId: string | null;
  /** Client address key (IPv4, or the IPv6 /64). */
  readonly clientKey: string;
  /** Bound tunnels plus BINDs in flight. */
  readonly tunnelCount: number;
  /** False once closed: closed sessions do not count. */
  readonly live: boolean;
}

export class AgentQuota {
  constructor(
    private readonly limits: QuotaLimits,
    private readonly sessions: () => Iterable<QuotaSubject>,
  ) {}

  /** Throws TUN_ERR_SESSION_LIMIT when `keyId` already has its share of live sessions. */
  admitSession(self: QuotaSubject, keyId: string): void {
    let count = 0;
    for (const s of this.sessions()) if (s !== self && s.live && s.keyId === keyId) count++;
    if (count >= this.limits.sessionsPerKey) {
      throw new TunnelError(
        'TUN_ERR_SESSION_LIMIT',
        `this API key already has ${count} live agent sessions (the limit is ${this.limits.sessionsPerKey}); stop one, or run several tunnels in one session with burrow start`,
      );
    }
  }

  /**
   * Checks every tunnel limit and takes a slot in `slots` (which `self.tunnelCount` counts)
   * in the same synchronous step; call the returned function when the BIND ends either way.
   * Throws TUN_ERR_TUNNEL_LIMIT naming the limit that is full.
   */
  reserveTunnel(self: QuotaSubject, slots: HeldSlots, perSession: number): () => void {
    if (self.tunnelCount >= perSession) {
      throw new TunnelError('TUN_ERR_TUNNEL_LIMIT', `a session may bind at most ${perSession} tunnels`);
    }
    this.admitTunnel(self);
    return slots.take();
  }

  /** Throws TUN_ERR_TUNNEL_LIMIT when one more tunnel would pass the key's or address's limit. */
  private admitTunnel(self: QuotaSubject): void {
    let count = 0;
    if (self.keyId !== null) {
      for (const s of this.sessions()) if (s.live && s.keyId === self.keyId) count += s.tunnelCount;
      if (count >= this.limits.tunnelsPerKey) {
        throw new TunnelError(
          'TUN_ERR_TUNNEL_LIMIT',
          `this API key already has ${count} tunnels (the limit is ${this.limits.tunnelsPerKey})`,
        );
      }
      return;
    }
    for (const s of this.sessions()) {
      if (s.live && s.keyId === null && s.clientKey === self.clientKey) count += s.tunnelCount;
    }
    if (count >= this.limits.anonymousTunnelsPerIp) {
      throw new TunnelError(
        'TUN_ERR_TUNNEL_LIMIT',
        `your address already has ${count} anonymous tunnels (the limit is ${this.limits.anonymousTunnelsPerIp}); use an API key for more`,
      );
    }
  }
}
