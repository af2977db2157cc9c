import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { realTimers, type MuxStream } from '@burrow/protocol';
import { Janitor } from './janitor.js';
import { MemoryRegistry } from './registry/memory-registry.js';
import { openSqliteStore, type Store } from './store/index.js';

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
