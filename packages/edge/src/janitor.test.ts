import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { realTimers, type MuxStream } from '@burrow/protocol';
import { Janitor } from './janitor.js';
import { MemoryRegistry } from './registry/memory-registry.js';
import { openSqliteStore, type Store } from './store/index.js';
import type { RequestRecord } from './store/request-records.js';
import { FakeTimers } from './test-support/fake-timers.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 15);

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function setup(now: {
  t: number;
}): Promise<{ store: Store; registry: MemoryRegistry; janitor: Janitor }> {
  const dir = mkdtempSync(join(tmpdir(), 'burrow-janitor-'));
  dirs.push(dir);
  const clock = { now: () => now.t };
  const store = await openSqliteStore({ file: join(dir, 'burrow.db'), clock });
  const registry = new MemoryRegistry();
  const janitor = new Janitor({
    store,
    registry,
    timers: { ...realTimers, now: clock.now },
    log: pino({ level: 'silent' }),
    intervalMs: 60_000,
    retentionMs: 1000,
    history: { maxAgeMs: 7 * DAY, maxPerTunnel: 10_000 },
  });
  return { store, registry, janitor };
}

describe('Janitor', () => {
  it('frees idle temporary names after the retention period, never live or named ones', async () => {
    const now = { t: 1_000_000 };
    const { store, registry, janitor } = await setup(now);
    const key = await store.createApiKey({ label: 't' });
    await store.createTunnel({ name: 'idle01', kind: 'temporary', ownerKeyId: null, resumeTokenHash: null });
    await store.createTunnel({ name: 'live01', kind: 'temporary', ownerKeyId: null, resumeTokenHash: null });
    await store.createTunnel({
      name: 'named',
      kind: 'named',
      ownerKeyId: key.record.id,
      resumeTokenHash: null,
    });
    registry.bind('live01', {
      sessionId: 's',
      accepting: true,
      anonymous: false,
      userId: null,
      openStream: () => ({}) as MuxStream,
      displaced: () => undefined,
    });
    now.t += 500;
    expect(await janitor.sweep()).toEqual([]);
    now.t += 1000;
    expect(await janitor.sweep()).toEqual(['idle01']);
    expect(await store.getTunnel('live01')).toBeDefined();
    expect(await store.getTunnel('named')).toBeDefined();
    await store.close();
  });
});

function record(id: string, tunnel: string, startedAt: number): RequestRecord {
  return {
    id,
    tunnel,
    userId: null,
    startedAt: new Date(startedAt),
    method: 'GET',
    path: '/',
    host: `${tunnel}.localhost`,
    status: 200,
    upgrade: false,
    bytesIn: 0,
    bytesOut: 2,
    clientAddress: '127.0.0.2',
    traceId: null,
    errorCode: null,
    timing: { edgeMs: 0.1, tunnelMs: 1, originMs: 1, totalMs: 2.5 },
    replayOf: null,
    capture: null,
  };
}

async function historyIds(store: Store, tunnel: string): Promise<string[]> {
  return (await store.listRequestRecords({ tunnel, limit: 200 })).records.map((r) => r.id);
}

/** A pino logger whose lines land in `lines`, parsed. */
function capturedLog(lines: Array<Record<string, unknown>>) {
  return pino(
    { level: 'info' },
    { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
}

describe('Janitor request history retention', () => {
  async function historySetup(options: { busyTimeoutMs?: number } = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'burrow-janitor-'));
    dirs.push(dir);
    const file = join(dir, 'burrow.db');
    const timers = new FakeTimers(T0);
    const store = await openSqliteStore({ file, clock: timers, ...options });
    const lines: Array<Record<string, unknown>> = [];
    const janitor = new Janitor({
      store,
      registry: new MemoryRegistry(),
      timers,
      log: capturedLog(lines),
      intervalMs: 60_000,
      retentionMs: DAY,
      history: { maxAgeMs: 7 * DAY, maxPerTunnel: 3 },
    });
    return { file, timers, store, janitor, lines };
  }

  it('prunes on its interval: records past the age limit, and all but each tunnel’s newest N', async () => {
    const { timers, store, janitor, lines } = await historySetup();
    await store.insertRequestRecords([
      ...[1, 2, 3, 4, 5].map((n) => record(`a${n}`, 'a', T0 - n * 60_000)),
      record('b-old', 'b', T0 - 8 * DAY),
      // Exactly 7 days old when the first sweep runs (at T0 + 1 min).
      record('b-edge', 'b', T0 + 60_000 - 7 * DAY),
      record('b-new', 'b', T0 - DAY),
    ]);
    janitor.start();
    timers.advance(59_999);
    await Promise.resolve();
    expect(await historyIds(store, 'a')).toHaveLength(5);
    timers.advance(1);
    await vi.waitFor(async () => expect(await historyIds(store, 'a')).toEqual(['a1', 'a2', 'a3']));
    // Exactly 7 days old is not older than 7 days: kept, until the next turn.
    expect(await historyIds(store, 'b')).toEqual(['b-new', 'b-edge']);
    await vi.waitFor(() =>
      expect(lines).toContainEqual(expect.objectContaining({ msg: 'pruned request history', removed: 3 })),
    );

    timers.advance(60_000);
    await vi.waitFor(async () => expect(await historyIds(store, 'b')).toEqual(['b-new']));
    await janitor.stop();
    await store.close();
  });

  it('logs a failed prune, keeps going and succeeds on the next sweep', async () => {
    const { file, store, janitor, lines } = await historySetup({ busyTimeoutMs: 20 });
    await store.insertRequestRecords([record('old', 'a', T0 - 30 * DAY), record('new', 'a', T0)]);
    // Another process holds the write lock past the store's busy timeout: every write fails.
    const other = new SqliteDatabase(file);
    other.exec('begin exclusive');
    expect(await janitor.pruneHistory()).toBe(0);
    expect(await janitor.sweep()).toEqual([]);
    expect(await historyIds(store, 'a')).toEqual(['new', 'old']);
    const failures = lines.filter((l) => l.msg === 'request history prune failed; trying again next sweep');
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatchObject({ level: 50, err: { code: 'TUN_ERR_INTERNAL' } });

    other.exec('commit');
    other.close();
    expect(await janitor.pruneHistory()).toBe(1);
    expect(await historyIds(store, 'a')).toEqual(['new']);
    await store.close();
  });

  it('checks a tunnel whose pass failed again on the next one, with no insert between', async () => {
    const { file, store, janitor, lines } = await historySetup({ busyTimeoutMs: 20 });
    expect(await janitor.pruneHistory()).toBe(0);
    await store.insertRequestRecords([1, 2, 3, 4, 5].map((n) => record(`a${n}`, 'a', T0 - n * 60_000)));
    const other = new SqliteDatabase(file);
    other.exec('begin exclusive');
    expect(await janitor.pruneHistory()).toBe(0);
    other.exec('commit');
    other.close();
    expect(await janitor.pruneHistory()).toBe(2);
    expect(await historyIds(store, 'a')).toEqual(['a1', 'a2', 'a3']);
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'pruned request history', removed: 2, tunnelsChecked: 1 }),
    );
    await store.close();
  });
});
