/**
 * Periodic housekeeping: keeps live tunnels' last-activity fresh, frees temporary names
 * idle past the retention period (never sooner, so an old URL never points at a
 * stranger's app while someone may still hold it), and prunes the request history to its
 * retention (age, then count per tunnel; the count only of tunnels inserted for since the
 * last pass, so an idle pass reads next to nothing). Each part fails alone, is logged, and is tried
 * again on the next turn.
 */

import type { Timers } from '@burrow/protocol';
import type { Logger } from './logger.js';
import type { Registry } from './registry/registry.js';
import type { Store } from './store/index.js';

export class Janitor {
  private timer: unknown = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly deps: {
      store: Store;
      registry: Registry;
      timers: Timers;
      /** Told the names each sweep freed (their per-name state elsewhere can go). */
      onFreed?: (names: readonly string[]) => void;
      log: Logger;
      intervalMs: number;
      retentionMs: number;
      /** Request history retention: records older than `maxAgeMs`, and past a tunnel's newest `maxPerTunnel`, go. */
      history: { maxAgeMs: number; maxPerTunnel: number };
    },
  ) {}

  start(): void {
    this.timer = this.deps.timers.setInterval(() => {
      if (!this.running) this.running = this.sweep().finally(() => (this.running = null));
    }, this.deps.intervalMs);
  }

  async stop(): Promise<void> {
    this.deps.timers.clearInterval(this.timer);
    await this.running;
  }

  /** One pass (names, then history); answers the names freed. Exposed for tests. */
  async sweep(): Promise<string[]> {
    const freed = await this.freeIdleNames();
    await this.pruneHistory();
    return freed;
  }

  /** Deletes request records past retention; answers how many went (0 when the pass failed). */
  async pruneHistory(): Promise<number> {
    const { store, timers, log, history } = this.deps;
    try {
      const pass = await store.pruneRequestRecords({
        olderThan: new Date(timers.now() - history.maxAgeMs),
        keepPerTunnel: history.maxPerTunnel,
      });
      if (pass.deleted > 0) {
        log.info({ removed: pass.deleted, tunnelsChecked: pass.tunnelsChecked }, 'pruned request history');
      }
      return pass.deleted;
    } catch (err) {
      log.error({ err }, 'request history prune failed; trying again next sweep');
      return 0;
    }
  }

  private async freeIdleNames(): Promise<string[]> {
    const { store, registry, timers, log } = this.deps;
    try {
      for (const name of registry.names()) await store.touchTunnel(name);
      const before = new Date(timers.now() - this.deps.retentionMs);
      const freed = await store.deleteTemporaryTunnelsIdleSince(before);
      if (freed.length > 0) {
        log.info({ freed: freed.length }, 'released idle temporary names');
        this.deps.onFreed?.(freed);
      }
      return freed;
    } catch (err) {
      log.error({ err }, 'janitor pass failed');
      return [];
    }
  }
}
