/**
 * Which tunnel a custom hostname routes to: an immutable snapshot of every verified domain
 * that has a tunnel, swapped whole on each reload. Known hosts are answered from memory;
 * unknown ones reload the snapshot at most once per `minReloadMs` edge-wide, so a flood of
 * random Host headers costs at most one store query per interval and no memory per host.
 */

import type { Timers } from '@burrow/protocol';
import type { Logger } from '../logger.js';
import type { Store } from '../store/index.js';

export interface DomainRoutesOptions {
  store: Pick<Store, 'listDomains'>;
  timers: Pick<Timers, 'now'>;
  log: Logger;
  /**
   * A miss reloads only if the last reload started at least this long ago; until then every
   * unknown host is answered "none" from the snapshot. Bounds both store load and how long
   * a domain routed from the CLI takes to be picked up without a verify pass.
   */
  minReloadMs?: number;
}

export class DomainRoutes {
  private readonly minReloadMs: number;
  /** hostname -> tunnel name; replaced, never mutated, so readers need no lock. */
  private table: ReadonlyMap<string, string> = new Map();
  /** When the last reload started; -Infinity so the first miss may reload. */
  private reloadedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  constructor(private readonly deps: DomainRoutesOptions) {
    this.minReloadMs = deps.minReloadMs ?? 3_000;
  }

  get size(): number {
    return this.table.size;
  }

  /** The tunnel for a known host from the snapshot; no I/O. `host` is lower-case, no port. */
  tunnelFor(host: string): string | undefined {
    return this.table.get(host);
  }

  /**
   * The tunnel for `host`, reloading on a miss when the snapshot is older than minReloadMs
   * (concurrent misses share that one reload). Never rejects.
   */
  async lookup(host: string): Promise<string | undefined> {
    const known = this.table.get(host);
    if (known !== undefined) return known;
    if (this.loading === null && this.deps.timers.now() - this.reloadedAt < this.minReloadMs) {
      return undefined;
    }
    await (this.loading ?? this.reload());
    return this.table.get(host);
  }

  /**
   * Reloads now, regardless of minReloadMs (after a verify pass, at startup). One reload in
   * flight plus one queued at most: a reload asked for while one runs starts after it, so
   * it sees writes that finished before it was asked for. Never rejects.
   */
  reload(): Promise<void> {
    if (this.loading === null) return this.load();
    this.queued ??= this.loading.then(() => {
      this.queued = null;
      return this.load();
    });
    return this.queued;
  }

  private load(): Promise<void> {
    this.reloadedAt = this.deps.timers.now();
    this.loading = this.deps.store
      .listDomains({ verified: true })
      .then((domains) => {
        const table = new Map<string, string>();
        for (const d of domains) if (d.tunnelName !== null) table.set(d.hostname, d.tunnelName);
        this.table = table;
      })
      .catch((err: unknown) => {
        // Keep serving the last good snapshot; the next miss or pass tries again.
        this.deps.log.error({ err }, 'could not load custom domain routes');
      })
      .finally(() => (this.loading = null));
    return this.loading;
  }
}
