import { copyFileSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Timers, TunnelError } from '@burrow/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteFileWatch } from './sqlite-file-watch.js';
import { openSqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

/** Intervals that run only when `advance` says; enough for one periodic check. */
class ManualTimers implements Timers {
  private time = 0;
  private readonly intervals = new Map<number, { fn: () => void; every: number; due: number }>();
  private nextId = 1;
  now(): number {
    return this.time;
  }
  setTimeout(): unknown {
    throw new Error('not used');
  }
  clearTimeout(): void {}
  setInterval(fn: () => void, ms: number): unknown {
    this.intervals.set(this.nextId, { fn, every: ms, due: this.time + ms });
    return this.nextId++;
  }
  clearInterval(handle: unknown): void {
    this.intervals.delete(handle as number);
  }
  get pending(): number {
    return this.intervals.size;
  }
  advance(ms: number): void {
    const end = this.time + ms;
    for (const interval of this.intervals.values()) {
      while (interval.due <= end) {
        this.time = interval.due;
        interval.due += interval.every;
        interval.fn();
      }
    }
    this.time = end;
  }
}

describe('SqliteFileWatch', () => {
  let dir: string;
  let file: string;
  let store: Store;
  let timers: ManualTimers;
  let changes: (TunnelError | null)[];
  let watch: SqliteFileWatch;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'burrow-watch-'));
    file = join(dir, 'burrow.db');
    store = await openSqliteStore({ file });
    timers = new ManualTimers();
    changes = [];
    watch = new SqliteFileWatch({ file, timers, intervalMs: 1_000, onChange: (p) => changes.push(p) });
  });

  afterEach(async () => {
    watch.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds nothing wrong while the path names the open file', () => {
    expect(watch.check()).toBeNull();
    expect(changes).toEqual([]);
  });

  it('notices a deleted file on its own, and reports the change once', () => {
    watch.start();
    rmSync(file);
    timers.advance(999);
    expect(changes).toEqual([]);
    timers.advance(1);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ code: 'TUN_ERR_STORE_REPLACED' });
    expect(changes[0]!.message).toContain(`${file} was deleted`);
    timers.advance(5_000);
    expect(watch.check()?.code).toBe('TUN_ERR_STORE_REPLACED');
    expect(changes).toHaveLength(1);
  });

  it('notices another file put at the path, and its going back', () => {
    renameSync(file, `${file}.moved`);
    copyFileSync(`${file}.moved`, file);
    expect(watch.check()?.message).toMatch(/replaced by another file/);
    // The original moved back: the path names the open file again.
    renameSync(`${file}.moved`, file);
    expect(watch.check()).toBeNull();
    expect(changes.map((c) => c?.code ?? null)).toEqual(['TUN_ERR_STORE_REPLACED', null]);
  });

  it('stops checking when stopped', () => {
    watch.start();
    watch.stop();
    rmSync(file);
    timers.advance(10_000);
    expect(changes).toEqual([]);
    expect(timers.pending).toBe(0);
  });
});
