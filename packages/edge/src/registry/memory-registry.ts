/** The single-edge registry: plain maps in this process. */

import { realTimers, type Timers } from '@burrow/protocol';
import type { Registry, TunnelTarget } from './registry.js';

type Waiter = (target: TunnelTarget | undefined) => void;

export class MemoryRegistry implements Registry {
  private readonly bound = new Map<string, TunnelTarget>();
  private readonly offline = new Map<string, number>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly timers: Timers;
  private waitingCount = 0;

  constructor(options: { timers?: Timers } = {}) {
    this.timers = options.timers ?? realTimers;
  }

  get waiting(): number {
    return this.waitingCount;
  }

  lookup(name: string): TunnelTarget | undefined {
    return this.bound.get(name);
  }

  bind(name: string, target: TunnelTarget): void {
    this.bound.set(name, target);
    this.offline.delete(name);
    const waiters = this.waiters.get(name);
    if (!waiters) return;
    this.waiters.delete(name);
    for (const wake of waiters) wake(target);
  }

  unbind(name: string, target: TunnelTarget, graceUntil: number): void {
    if (this.bound.get(name) !== target) return;
    this.bound.delete(name);
    this.expect(name, graceUntil);
  }

  expect(name: string, graceUntil: number): void {
    if (this.bound.has(name)) return;
    this.offline.set(name, Math.max(graceUntil, this.offline.get(name) ?? 0));
  }

  graceUntil(name: string): number {
    const until = this.offline.get(name);
    if (until === undefined) return 0;
    if (until <= this.timers.now()) {
      this.offline.delete(name);
      return 0;
    }
    return until;
  }

  waitFor(name: string, timeoutMs: number, signal?: AbortSignal): Promise<TunnelTarget | undefined> {
    const existing = this.bound.get(name);
    if (existing) return Promise.resolve(existing);
    // 'abort' never fires for a signal aborted already: without this the viewer who left
    // would hold a waiter slot (counted against maxPendingRequests) for the whole grace.
    if (signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      let set = this.waiters.get(name);
      if (!set) this.waiters.set(name, (set = new Set()));
      this.waitingCount++;
      const done: Waiter = (target) => {
        this.timers.clearTimeout(timer);
        signal?.removeEventListener('abort', giveUp);
        this.waitingCount--;
        resolve(target);
      };
      const giveUp = (): void => {
        set.delete(done);
        // An empty set left behind would keep the name's entry until it is bound, if ever.
        if (set.size === 0 && this.waiters.get(name) === set) this.waiters.delete(name);
        done(undefined);
      };
      const timer = this.timers.setTimeout(giveUp, timeoutMs);
      signal?.addEventListener('abort', giveUp, { once: true });
      set.add(done);
    });
  }

  names(): string[] {
    return [...this.bound.keys()];
  }
}
