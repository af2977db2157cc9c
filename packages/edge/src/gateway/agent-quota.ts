/**
 * Edge-wide limits on agents, so one key or one anonymous address cannot take the edge for
 * itself: live sessions per API key, tunnels per API key (across its sessions), and
 * anonymous tunnels per client address. Counted from the live sessions, so nothing drifts.
 */

import { TunnelError } from '@burrow/protocol';

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

  /** Throws TUN_ERR_TUNNEL_LIMIT when one more tunnel would pass the key's or address's limit. */
  admitTunnel(self: QuotaSubject): void {
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
