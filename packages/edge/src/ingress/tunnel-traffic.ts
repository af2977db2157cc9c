/**
 * Per-tunnel traffic counters since the edge started: what the control API shows a tunnel's
 * owner (and nobody else). Counted when a request or upgrade is routed to a tunnel an agent
 * serves, whether or not its policy admits it, so an owner also sees traffic their policy
 * refused. A name released or freed starts again from zero.
 */

export interface TunnelTrafficCounts {
  /** HTTP requests routed to the tunnel. */
  requests: number;
  /** Upgrade (WebSocket) requests routed to the tunnel. */
  upgrades: number;
  /** Epoch ms of the last request or upgrade, or null when there was none. */
  lastRequestAt: number | null;
}

/** Counts for at most this many names; beyond it the name tracked longest is dropped. */
const MAX_TRACKED_TUNNELS = 100_000;

export class TunnelTraffic {
  readonly startedAt: number;
  private readonly counts = new Map<string, TunnelTrafficCounts>();

  constructor(private readonly now: () => number) {
    this.startedAt = now();
  }

  request(name: string): void {
    this.entry(name).requests++;
  }

  upgrade(name: string): void {
    this.entry(name).upgrades++;
  }

  get(name: string): TunnelTrafficCounts {
    const found = this.counts.get(name);
    return found === undefined ? { requests: 0, upgrades: 0, lastRequestAt: null } : { ...found };
  }

  /** A released or reaped name starts again from zero when someone else takes it. */
  forget(name: string): void {
    this.counts.delete(name);
  }

  private entry(name: string): TunnelTrafficCounts {
    let entry = this.counts.get(name);
    if (entry === undefined) {
      if (this.counts.size >= MAX_TRACKED_TUNNELS) {
        const oldest = this.counts.keys().next();
        if (oldest.done !== true) this.counts.delete(oldest.value);
      }
      entry = { requests: 0, upgrades: 0, lastRequestAt: null };
      this.counts.set(name, entry);
    }
    entry.lastRequestAt = this.now();
    return entry;
  }
}
