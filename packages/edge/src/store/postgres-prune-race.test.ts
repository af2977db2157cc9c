/**
 * Retention on PostgreSQL while another edge deletes the same tunnel's rows: a second
 * connection (the other edge) holds row locks on some of the rows the pass's first DELETE
 * chooses, and commits once that DELETE waits on them. The DELETE then finds those rows
 * gone and deletes fewer than it chose (or none); the pass must still leave the tunnel at
 * its cap.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from './postgres-store.js';
import { REQUEST_PRUNE_FIRST_CHUNK } from './request-prune.js';
import type { RequestRecord } from './request-records.js';
import type { Store } from './store.js';
import { requestRecord, T0 } from './test-support/contract-fixture.js';
import { TestDatabases } from './test-support/postgres-databases.js';

const databases = new TestDatabases();
afterAll(() => databases.dropAll(), 120_000);

/** Record `n` of tunnel `web`, a millisecond after the one before. */
function record(n: number): RequestRecord {
  return requestRecord(`r${String(n).padStart(4, '0')}`, { startedAt: new Date(T0 + n) });
}

/** Waits (bounded) until some backend on `database` waits for a lock. */
async function untilWaitingOnLock(client: pg.Client, database: string): Promise<void> {
  for (let tries = 0; tries < 400; tries++) {
    const { rows } = await client.query<{ n: string }>(
      `select count(*) as n from pg_stat_activity where datname = $1 and wait_event_type = 'Lock'`,
      [database],
    );
    if (Number(rows[0]?.n) > 0) return;
    await sleep(25);
  }
  throw new Error('no statement came to wait on the held rows');
}

/**
 * 1,000 records of `web`, one a millisecond from T0; another connection deletes its `held`
 * oldest in an open transaction; a pass starts, its first DELETE waits on those rows, the
 * other commits. Answers the pass's count of deleted records and how many `web` keeps.
 */
async function pruneBesideAnotherDelete(
  name: string,
  held: number,
  pass: { olderThan: Date; keepPerTunnel: number },
): Promise<{ deleted: number; left: number }> {
  const url = await databases.url(name);
  const database = new URL(url).pathname.slice(1);
  const store: Store = await openPostgresStore({ url });
  const other = new pg.Client({ connectionString: url });
  await other.connect();
  try {
    await store.insertRequestRecords(Array.from({ length: 1_000 }, (_, n) => record(n)));
    await other.query('begin');
    await other.query(
      `delete from request_records where id in (select id from request_records order by started_at, id limit $1)`,
      [held],
    );
    const pruning = store.pruneRequestRecords(pass);
    const watcher = new pg.Client({ connectionString: url });
    await watcher.connect();
    try {
      await untilWaitingOnLock(watcher, database);
    } finally {
      await watcher.end();
    }
    await other.query('commit');
    const { deleted } = await pruning;
    const page = await store.listRequestRecords({ tunnel: 'web', limit: 200 });
    let left = page.records.length;
    for (let cursor = page.nextCursor; cursor !== null;) {
      const next = await store.listRequestRecords({ tunnel: 'web', limit: 200, cursor });
      left += next.records.length;
      cursor = next.nextCursor;
    }
    return { deleted, left };
  } finally {
    await other.query('rollback').catch(() => undefined);
    await other.end();
    await store.close();
  }
}

describe('request history retention beside another edge deleting on PostgreSQL', () => {
  it('cuts by age on after a DELETE that found some of its rows gone', async () => {
    const held = REQUEST_PRUNE_FIRST_CHUNK / 2;
    const result = await pruneBesideAnotherDelete('partial_chunk', held, {
      olderThan: new Date(T0 + 600),
      keepPerTunnel: 10_000,
    });
    expect(result).toEqual({ deleted: 600 - held, left: 400 });
  }, 60_000);

  it('looks up the cut-off again after a DELETE that found all of its rows gone', async () => {
    const result = await pruneBesideAnotherDelete('empty_chunk', REQUEST_PRUNE_FIRST_CHUNK, {
      olderThan: new Date(0),
      keepPerTunnel: 400,
    });
    expect(result).toEqual({ deleted: 600 - REQUEST_PRUNE_FIRST_CHUNK, left: 400 });
  }, 60_000);
});
