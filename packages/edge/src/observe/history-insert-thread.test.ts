/**
 * The history writer over SQLite's insert thread, behind a real ingress with a fake agent:
 * when the worker is killed, viewers keep getting their answers, the records of that time
 * are counted as dropped and a warning says so; once a new worker starts, records are
 * stored again.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { realTimers } from '@burrow/protocol';
import { RequestInsertThread } from '../store/request-insert-thread.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import { startIngressRig, type IngressRig } from '../test-support/ingress-rig.js';
import { HistoryWriter } from './history-writer.js';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('history on the SQLite insert thread', () => {
  it('keeps serving when the worker dies, counts its records as dropped, and stores again after a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'burrow-history-thread-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'burrow.db');
    // The store the API would read from; its own inserts are not used here.
    const reader = await openSqliteStore({ file, insertThread: false });
    cleanups.push(() => reader.close());
    const thread = new RequestInsertThread({ file, busyTimeoutMs: 1_000, restartMs: 500 });
    const warnings: string[] = [];
    const writer = new HistoryWriter({
      store: { insertRequestRecords: (records) => thread.insert(records) },
      timers: realTimers,
      log: { warn: (_details, message) => warnings.push(message) },
      queueMax: 1_000,
      flushMs: 10,
    });
    cleanups.push(async () => {
      await writer.close(1_000);
      await thread.close();
    });
    const rig: IngressRig = await startIngressRig({ observer: writer });
    cleanups.push(() => rig.close());
    const { name } = await rig.agent();
    const stored = async () => (await reader.listRequestRecords({ tunnel: name, limit: 200 })).records.length;

    for (let i = 0; i < 3; i++) expect((await rig.send(name, { path: `/before/${i}` })).status).toBe(200);
    await until(async () => (await stored()) === 3, 'the first three records stored');
    expect(thread.started).toBe(true);

    await thread.abort();
    for (let i = 0; i < 4; i++) expect((await rig.send(name, { path: `/dead/${i}` })).status).toBe(200);
    await until(() => writer.dropped === 4, 'four records dropped');
    expect(warnings.some((w) => /records dropped \(writing to the store failed\)/.test(w))).toBe(true);
    expect(await stored()).toBe(3);

    await new Promise((resolve) => setTimeout(resolve, 550));
    for (let i = 0; i < 2; i++) expect((await rig.send(name, { path: `/after/${i}` })).status).toBe(200);
    await until(async () => (await stored()) === 5, 'the records after the restart stored');
    expect(writer.dropped).toBe(4);
    const paths = (await reader.listRequestRecords({ tunnel: name, limit: 200 })).records.map((r) => r.path);
    expect(paths.filter((p) => p.startsWith('/dead/'))).toEqual([]);
    expect(rig.errors).toEqual([]);
  });
});
