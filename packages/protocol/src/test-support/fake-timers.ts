/**
 * A manual clock implementing Timers, for tests: time moves only when `advance()` is called,
 * and due callbacks then run in time order (ties in the order they were scheduled).
 * Test-only support; it has no dependencies so it can live in the package's source tree.
 */

import type { Timers } from '../timers.js';

interface Scheduled {
  readonly id: number;
  due: number;
  /** Repeat period in ms for intervals; null for one-shot timeouts. */
  readonly every: number | null;
  readonly fn: () => void;
}

export class FakeTimers implements Timers {
  private current: number;
  private nextId = 1;
  private readonly scheduled = new Map<number, Scheduled>();

  /** `start` is the initial value of now(), in ms. */
  constructor(start = 1_000_000) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    return this.schedule(fn, ms, null);
  }

  clearTimeout(handle: unknown): void {
    this.scheduled.delete(handle as number);
  }

  setInterval(fn: () => void, ms: number): unknown {
    // A zero period would make advance() loop forever; real timers clamp to 1 ms too.
    return this.schedule(fn, ms, Math.max(1, ms));
  }

  clearInterval(handle: unknown): void {
    this.scheduled.delete(handle as number);
  }

  /** Timers and intervals still scheduled. */
  get pending(): number {
    return this.scheduled.size;
  }

  /** Moves time forward by `ms`, running every callback that falls due on the way. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const next = this.earliest();
      if (!next || next.due > target) break;
      this.current = next.due;
      if (next.every === null) this.scheduled.delete(next.id);
      else next.due += next.every;
      next.fn();
    }
    this.current = target;
  }

  private schedule(fn: () => void, ms: number, every: number | null): number {
    const id = this.nextId++;
    this.scheduled.set(id, { id, due: this.current + Math.max(0, ms), every, fn });
    return id;
  }

  private earliest(): Scheduled | undefined {
    let best: Scheduled | undefined;
    for (const s of this.scheduled.values()) if (!best || s.due < best.due) best = s;
    return best;
  }
}
