import { copyFileSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TunnelError } from '@burrow/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeTimers } from '../test-support/fake-timers.js';
import { SqliteFileWatch } from './sqlite-file-watch.js';
import { openSqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

describe('SqliteFileWatch', () => {
  let dir: string;
  let file: string;
  let store: Store;
  let timers: FakeTimers;
  let changes: (TunnelError | null)[];
  let watch: SqliteFileWatch;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'burrow-watch-'));
    file = join(dir, 'burrow.db');
    store = await openSqliteStore({ file });
    timers = new FakeTimers(0);
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
