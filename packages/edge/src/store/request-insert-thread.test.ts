/**
 * The SQLite insert thread on real files: records written by the worker read back through
 * the store (captures included), a failing insert and a killed worker reject their batches
 * (what the history writer counts as dropped), a new worker after the restart delay, and
 * close draining what is in flight.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TunnelError } from '@burrow/protocol';
import { RequestInsertThread, type InsertThreadLog } from './request-insert-thread.js';
import type { RequestRecord } from './request-records.js';
import { openSqliteStore, type SqliteStore } from './sqlite-store.js';

let dir = '';
let files = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'burrow-insert-thread-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function record(id: string, overrides: Partial<RequestRecord> = {}): RequestRecord {
  return {
    id,
    tunnel: 'hooks',
    userId: null,
    startedAt: new Date(1_700_000_000_000 + Number(id.replace(/\D/g, '') || 0)),
    method: 'POST',
    path: '/hook?x=1',
    host: 'hooks.burrow.test',
    status: 201,
    upgrade: false,
    bytesIn: 12,
    bytesOut: 7,
    clientAddress: '203.0.113.9',
    traceId: '0af7651916cd43dd8448eb211c80319c',
    errorCode: null,
    timing: { edgeMs: 0.25, tunnelMs: 1.5, originMs: 30.125, totalMs: 32 },
    replayOf: null,
    capture: null,
    ...overrides,
  };
}

interface Logged {
  level: 'info' | 'warn';
  details: Record<string, unknown>;
  message: string;
}

function memoryLog(): InsertThreadLog & { lines: Logged[] } {
  const lines: Logged[] = [];
  return {
    lines,
    info: (details, message) => lines.push({ level: 'info', details, message }),
    warn: (details, message) => lines.push({ level: 'warn', details, message }),
  };
}

/** A migrated file store whose records go through the thread, and the thread itself. */
async function threadedStore(
  options: { log?: InsertThreadLog; onQuery?: (ms: number, failed: boolean) => void } = {},
): Promise<{ store: SqliteStore; thread: RequestInsertThread; file: string }> {
  const file = join(dir, `store-${++files}.db`);
  const store = await openSqliteStore({ file, ...options });
  const thread = store.requestInserts;
  if (thread === null) throw new Error('a file store has an insert thread');
  return { store, thread, file };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('RequestInsertThread', () => {
  it('writes batches from a worker thread: every field and capture reads back through the store', async () => {
    const log = memoryLog();
    const timed: boolean[] = [];
    const { store } = await threadedStore({ log, onQuery: (_ms, failed) => timed.push(failed) });
    // A body that is a slice of Node's shared pool, and one that is a whole buffer.
    const pooled = Buffer.from('twelve bytes');
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.byteLength);
    const captured = record('r1', {
      userId: 'u1',
      capture: {
        requestHeaders: ['content-type', 'text/plain', 'authorization', '***'],
        requestBody: pooled,
        requestBodyTruncated: true,
        responseHeaders: ['x-request-id', 'r1'],
        responseBody: Buffer.alloc(3, 0xff),
        responseBodyTruncated: false,
      },
    });
    const plain = record('r2', {
      upgrade: true,
      status: 101,
      errorCode: 'TUN_ERR_STREAM_CANCELLED',
      replayOf: 'r1',
      timing: { edgeMs: null, tunnelMs: null, originMs: null, totalMs: 0.5 },
    });
    await store.insertRequestRecords([captured, plain]);
    // The same id again is skipped, not an error.
    await store.insertRequestRecords([record('r1', { status: 500 })]);
    expect(await store.getRequestRecord('r1')).toEqual(captured);
    expect(await store.getRequestRecord('r2')).toEqual(plain);
    expect(log.lines.filter((l) => l.message.includes('inserting on a worker thread'))).toHaveLength(1);
    // Each batch's insert time reaches the store's query timer.
    expect(timed.filter((failed) => !failed).length).toBeGreaterThanOrEqual(2);
    await store.close();
  });

  it('rejects a batch the worker cannot insert, and goes on with the next', async () => {
    const { store, file } = await threadedStore();
    await store.insertRequestRecords([record('a1')]);
    // Another connection takes the table away under the worker.
    const other = new SqliteDatabase(file);
    other.exec('alter table request_records rename to request_records_gone');
    const err = await rejection(store.insertRequestRecords([record('a2'), record('a3')]));
    expect(err).toBeInstanceOf(TunnelError);
    expect((err as TunnelError).code).toBe('TUN_ERR_INTERNAL');
    expect((err as TunnelError).message).toMatch(/request history insert failed: .*request_records/);
    other.exec('alter table request_records_gone rename to request_records');
    other.close();
    await store.insertRequestRecords([record('a4')]);
    expect(await store.getRequestRecord('a4')).not.toBeNull();
    // The failed batch was one transaction: nothing of it was stored.
    expect(await store.getRequestRecord('a2')).toBeNull();
    await store.close();
  });

  it('fails the batches of a killed worker, refuses inserts until the restart delay, then starts another', async () => {
    const file = join(dir, `store-${++files}.db`);
    await (await openSqliteStore({ file, insertThread: false })).close();
    const log = memoryLog();
    const thread = new RequestInsertThread({ file, busyTimeoutMs: 1000, log, restartMs: 300 });
    await thread.insert([record('k1')]);
    const inFlight = thread.insert([record('k2')]);
    await thread.abort();
    const lost = await rejection(inFlight);
    // Either the worker answered before it was killed, or the batch failed with the reason.
    if (lost !== undefined) expect((lost as Error).message).toMatch(/insert thread stopped \(aborted\)/);
    expect(log.lines.some((l) => l.level === 'warn' && /insert thread stopped/.test(l.message))).toBe(true);
    const refused = await rejection(thread.insert([record('k3')]));
    expect((refused as TunnelError).code).toBe('TUN_ERR_INTERNAL');
    expect((refused as Error).message).toMatch(/insert thread stopped \(aborted\)/);
    await new Promise((resolve) => setTimeout(resolve, 350));
    await thread.insert([record('k4')]);
    await thread.close();
    const store = await openSqliteStore({ file, insertThread: false });
    expect(await store.getRequestRecord('k1')).not.toBeNull();
    expect(await store.getRequestRecord('k3')).toBeNull();
    expect(await store.getRequestRecord('k4')).not.toBeNull();
    await store.close();
  });

  it('close waits for the batches in flight and refuses later inserts', async () => {
    const { store, thread } = await threadedStore();
    const batches = Array.from({ length: 5 }, (_, b) =>
      store.insertRequestRecords(Array.from({ length: 200 }, (_, i) => record(`c${b * 1000 + i}`))),
    );
    expect(thread.inFlight).toBe(5);
    await thread.close();
    await Promise.all(batches);
    expect(thread.inFlight).toBe(0);
    const late = await rejection(store.insertRequestRecords([record('late')]));
    expect((late as Error).message).toMatch(/store is closed/);
    await store.close();
    const reopened = await openSqliteStore({ file: join(dir, `store-${files}.db`), insertThread: false });
    const page = await reopened.listRequestRecords({ tunnel: 'hooks', limit: 200 });
    expect(page.records).toHaveLength(200);
    expect(page.nextCursor).not.toBeNull();
    await reopened.close();
  });

  it('starts no thread for a store that never inserts, nor for an in-memory one', async () => {
    const { store, thread } = await threadedStore();
    expect(thread.started).toBe(false);
    await store.close();
    const memory = await openSqliteStore({ file: ':memory:' });
    expect(memory.requestInserts).toBeNull();
    await memory.insertRequestRecords([record('m1')]);
    expect(await memory.getRequestRecord('m1')).not.toBeNull();
    await memory.close();
  });
});
