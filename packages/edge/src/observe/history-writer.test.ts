import { afterEach, describe, expect, it } from 'vitest';
import { realTimers } from '@burrow/protocol';
import { FakeTimers } from '../test-support/fake-timers.js';
import { NO_TUNNEL, type RequestRecord } from '../store/request-records.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { BATCH_RECORDS, DROP_WARNING_MS, HistoryWriter, MAX_INSERT_RECORDS } from './history-writer.js';

function record(n: number): RequestRecord {
  return {
    id: `req-${n}`,
    tunnel: 'demo',
    userId: null,
    startedAt: new Date(1_700_000_000_000 + n),
    method: 'GET',
    path: `/${n}`,
    host: 'demo.example.com',
    status: 200,
    upgrade: false,
    bytesIn: 0,
    bytesOut: 2,
    clientAddress: '127.0.0.1',
    traceId: null,
    errorCode: null,
    timing: { edgeMs: 0.1, tunnelMs: 0.2, originMs: 1, totalMs: 1.5 },
    replayOf: null,
    capture: null,
  };
}

/** The store side of the writer, as the test drives it: each insert waits until the test settles it. */
class ScriptedStore {
  readonly batches: RequestRecord[][] = [];
  private pending: { resolve: () => void; reject: (err: Error) => void }[] = [];
  /** Settles inserts at once (true) or leaves them hanging until `settle` (false). */
  constructor(private readonly mode: 'ok' | 'fail' | 'hang') {}

  get inFlight(): number {
    return this.pending.length;
  }

  insertRequestRecords(records: readonly RequestRecord[]): Promise<void> {
    this.batches.push([...records]);
    if (this.mode === 'ok') return Promise.resolve();
    if (this.mode === 'fail') return Promise.reject(new Error('database is locked'));
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }

  settle(): void {
    for (const p of this.pending.splice(0)) p.resolve();
  }
}

function warnings(): {
  log: { warn(details: Record<string, unknown>, message: string): void };
  seen: { details: Record<string, unknown>; message: string }[];
} {
  const seen: { details: Record<string, unknown>; message: string }[] = [];
  return { seen, log: { warn: (details, message) => seen.push({ details, message }) } };
}

async function settled(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

function writer(store: ScriptedStore, timers: FakeTimers, queueMax = 10_000, queueBytes?: number) {
  const warned = warnings();
  const history = new HistoryWriter({
    store,
    timers,
    log: warned.log,
    queueMax,
    flushMs: 250,
    ...(queueBytes === undefined ? {} : { queueBytes }),
  });
  return { history, warned };
}

describe('HistoryWriter', () => {
  it('writes queued records as one batch after flushMs, never during record()', async () => {
    const timers = new FakeTimers();
    const store = new ScriptedStore('ok');
    const { history } = writer(store, timers);
    for (let i = 0; i < 3; i++) history.record(record(i));
    await settled();
    expect(store.batches).toEqual([]);
    timers.advance(249);
    expect(store.batches).toEqual([]);
    timers.advance(1);
    expect(store.batches.map((b) => b.map((r) => r.id))).toEqual([['req-0', 'req-1', 'req-2']]);
    expect(history.queued).toBe(0);
  });

  it(`writes at once (next turn) when ${BATCH_RECORDS} are waiting, a backlog in inserts of at most ${MAX_INSERT_RECORDS}, one at a time`, async () => {
    expect(MAX_INSERT_RECORDS).toBeLessThan(BATCH_RECORDS);
    const timers = new FakeTimers();
    const store = new ScriptedStore('hang');
    const { history } = writer(store, timers);
    const next = async (): Promise<void> => {
      store.settle();
      await settled();
    };
    for (let i = 0; i < BATCH_RECORDS; i++) history.record(record(i));
    expect(store.batches).toHaveLength(0);
    timers.advance(0);
    expect(store.batches.map((b) => b.length)).toEqual([MAX_INSERT_RECORDS]);
    // While that insert hangs, more queue up and nothing else is sent.
    for (let i = 0; i < 2 * MAX_INSERT_RECORDS; i++) history.record(record(1000 + i));
    timers.advance(1000);
    expect(store.inFlight).toBe(1);
    // A backlog of BATCH_RECORDS or more goes on at the next turn, a smaller one at the timer.
    let left = BATCH_RECORDS + MAX_INSERT_RECORDS;
    while (left >= BATCH_RECORDS) {
      await next();
      timers.advance(0);
      expect(store.batches.at(-1)).toHaveLength(MAX_INSERT_RECORDS);
      left -= MAX_INSERT_RECORDS;
    }
    await next();
    const sent = store.batches.length;
    timers.advance(0);
    expect(store.batches).toHaveLength(sent);
    timers.advance(250);
    expect(store.batches).toHaveLength(sent + 1);
    expect(store.batches.flat()).toHaveLength(
      BATCH_RECORDS + 2 * MAX_INSERT_RECORDS - left + MAX_INSERT_RECORDS,
    );
    expect(history.dropped).toBe(0);
  });

  it('drops and counts what a full queue cannot take, warning at most every 10 s with the count', () => {
    const timers = new FakeTimers();
    const store = new ScriptedStore('hang');
    const { history, warned } = writer(store, timers, 10);
    for (let i = 0; i < 10; i++) history.record(record(i));
    timers.advance(250);
    expect(store.inFlight).toBe(1);
    // The 10 went to the (hanging) insert; 10 more fill the queue, then 5 are dropped.
    for (let i = 0; i < 15; i++) history.record(record(100 + i));
    expect(history.queued).toBe(10);
    expect(history.dropped).toBe(5);
    // The first drop is told at once; the next ones wait for the interval.
    expect(warned.seen).toHaveLength(1);
    expect(warned.seen[0]!.details).toMatchObject({ dropped: 1, droppedTotal: 1 });
    expect(warned.seen[0]!.message).toContain('history.queueMax is 10');
    for (let i = 0; i < 7; i++) history.record(record(200 + i));
    expect(history.dropped).toBe(12);
    expect(warned.seen).toHaveLength(1);
    // The quiet interval ends: the other 11 are told without another drop.
    timers.advance(DROP_WARNING_MS);
    expect(warned.seen).toHaveLength(2);
    expect(warned.seen[1]!.details).toMatchObject({ dropped: 11, droppedTotal: 12 });
  });

  it('counts the records of a failed insert as dropped and goes on with the next batch', async () => {
    const timers = new FakeTimers();
    const failing = new ScriptedStore('fail');
    const { history, warned } = writer(failing, timers);
    history.record(record(1));
    history.record(record(2));
    timers.advance(250);
    await settled();
    expect(history.dropped).toBe(2);
    expect(warned.seen[0]!.message).toContain('writing to the store failed');
    expect(warned.seen[0]!.details.err).toBeInstanceOf(Error);
    history.record(record(3));
    timers.advance(250);
    await settled();
    expect(failing.batches).toHaveLength(2);
    expect(history.dropped).toBe(3);
  });

  it('close() writes what is queued, then drops later records', async () => {
    const timers = new FakeTimers();
    const store = new ScriptedStore('ok');
    const { history } = writer(store, timers);
    history.record(record(1));
    history.record(record(2));
    await history.close();
    expect(store.batches.flat().map((r) => r.id)).toEqual(['req-1', 'req-2']);
    history.record(record(3));
    expect(history.dropped).toBe(1);
    expect(store.batches.flat()).toHaveLength(2);
  });

  it('close() against a hanging store returns after its bound and counts what was left', async () => {
    const timers = new FakeTimers();
    const store = new ScriptedStore('hang');
    const { history, warned } = writer(store, timers);
    history.record(record(1));
    timers.advance(250);
    history.record(record(2));
    history.record(record(3));
    const closing = history.close(1_000);
    let done = false;
    void closing.then(() => (done = true));
    await settled();
    expect(done).toBe(false);
    timers.advance(1_000);
    await settled();
    expect(done).toBe(true);
    // The two queued and the one in the insert close gave up on.
    expect(history.dropped).toBe(3);
    expect(warned.seen.at(-1)!.details).toMatchObject({ dropped: 3 });
  });
});

describe('HistoryWriter bounds', () => {
  function captured(n: number, bytes: number): RequestRecord {
    return {
      ...record(n),
      capture: {
        requestHeaders: ['Content-Type', 'text/plain'],
        requestBody: Buffer.alloc(bytes, 1),
        requestBodyTruncated: false,
        responseHeaders: [],
        responseBody: Buffer.alloc(bytes, 2),
        responseBodyTruncated: false,
      },
    };
  }

  it('stores no record of a request for a name that is no tunnel, nor of a refusal that reached none', async () => {
    const timers = new FakeTimers();
    const store = new ScriptedStore('ok');
    const { history } = writer(store, timers);
    history.record({ ...record(1), errorCode: 'TUN_ERR_TUNNEL_NOT_FOUND', status: 404 });
    history.record({ ...record(2), errorCode: 'TUN_ERR_AGENT_OFFLINE', status: 502 });
    // A refusal that reached no tunnel (a foreign Host over the rate limit, a malformed head).
    history.record({ ...record(3), tunnel: NO_TUNNEL, errorCode: 'EDGE_RATE_LIMITED', status: 429 });
    // The writer's own rule keeps a record with a tunnel (refusals before an exchange never
    // reach it in the edge: server.ts gives them an observer without the history).
    history.record({ ...record(4), errorCode: 'EDGE_RATE_LIMITED', status: 429 });
    timers.advance(250);
    await settled();
    expect(store.batches.flat().map((r) => r.id)).toEqual(['req-2', 'req-4']);
    expect(history.dropped).toBe(0);
  });

  it('keeps records over the byte budget without their bodies, and frees the budget once written', async () => {
    const timers = new FakeTimers();
    const store = new ScriptedStore('hang');
    const { history } = writer(store, timers, 100, 1000);
    history.record(captured(1, 300)); // 600 bytes
    history.record(captured(2, 300)); // would be 1,200: headers only
    timers.advance(250);
    await settled();
    const [first, second] = store.batches[0]!;
    expect(first!.capture!.requestBody).toHaveLength(300);
    expect(second!.capture).toMatchObject({
      requestHeaders: ['Content-Type', 'text/plain'],
      requestBody: null,
      requestBodyTruncated: true,
      responseBody: null,
      responseBodyTruncated: true,
    });
    // Still in flight: the 600 bytes count.
    history.record(captured(3, 300));
    store.settle();
    await settled();
    history.record(captured(4, 300));
    timers.advance(250);
    await settled();
    store.settle();
    const later = store.batches.slice(1).flat();
    expect(later.map((r) => [r.id, r.capture!.requestBody?.length ?? null])).toEqual([
      ['req-3', null],
      ['req-4', 300],
    ]);
    expect(history.dropped).toBe(0);
  });

  it('cuts inserts at 8 MiB of bodies, one record at least', async () => {
    const timers = new FakeTimers();
    const store = new ScriptedStore('ok');
    const { history } = writer(store, timers, 100, 64 * 1024 * 1024);
    for (let i = 0; i < 5; i++) history.record(captured(i, 1024 * 1024)); // 2 MiB each
    timers.advance(250);
    for (let i = 0; i < 5; i++) {
      await settled();
      timers.advance(250);
    }
    expect(store.batches.map((b) => b.length)).toEqual([4, 1]);
  });
});

describe('HistoryWriter over the real SQLite store', () => {
  let store: Store | null = null;
  afterEach(async () => {
    await store?.close();
    store = null;
  });

  async function sqlite(): Promise<Store> {
    store = await openSqliteStore({ file: ':memory:' });
    return store;
  }

  async function stored(s: Store): Promise<RequestRecord[]> {
    const out: RequestRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await s.listRequestRecords({ tunnel: 'demo', limit: 200, cursor });
      out.push(...page.records);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    return out;
  }

  it('writes every record, a backlog in several inserts, and they read back as recorded', async () => {
    const s = await sqlite();
    const warned = warnings();
    const history = new HistoryWriter({
      store: s,
      timers: realTimers,
      log: warned.log,
      queueMax: 10_000,
      flushMs: 20,
    });
    const captured: RequestRecord = {
      ...record(-1),
      capture: {
        requestHeaders: ['Authorization', '***', 'X-A', '1'],
        requestBody: Buffer.from('up'),
        requestBodyTruncated: true,
        responseHeaders: ['Content-Type', 'text/plain'],
        responseBody: null,
        responseBodyTruncated: false,
      },
    };
    history.record(captured);
    for (let i = 0; i < 1_200; i++) history.record(record(i));
    await history.close();
    expect(history.dropped).toBe(0);
    expect(warned.seen).toEqual([]);
    const all = await stored(s);
    expect(all).toHaveLength(1_201);
    expect(await s.getRequestRecord('req-7')).toEqual(record(7));
    expect(await s.getRequestRecord('req--1')).toEqual(captured);
  });

  it('drops and counts the batch of a failed insert, and the next batches still land', async () => {
    const s = await sqlite();
    let failures = 1;
    const flaky = {
      insertRequestRecords: (records: readonly RequestRecord[]): Promise<void> =>
        failures-- > 0 ? Promise.reject(new Error('SQLITE_BUSY')) : s.insertRequestRecords(records),
    };
    const warned = warnings();
    const history = new HistoryWriter({
      store: flaky,
      timers: realTimers,
      log: warned.log,
      queueMax: 100,
      flushMs: 10,
    });
    for (let i = 0; i < 3; i++) history.record(record(i));
    await new Promise((resolve) => setTimeout(resolve, 60));
    for (let i = 3; i < 5; i++) history.record(record(i));
    await history.close();
    expect(history.dropped).toBe(3);
    expect((await stored(s)).map((r) => r.id).sort()).toEqual(['req-3', 'req-4']);
    expect(warned.seen[0]!.details).toMatchObject({ dropped: 3 });
  });

  it('while an insert hangs, keeps at most queueMax, then writes them once the store answers', async () => {
    const s = await sqlite();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let first = true;
    const slow = {
      insertRequestRecords: async (records: readonly RequestRecord[]): Promise<void> => {
        if (first) {
          first = false;
          await gate;
        }
        await s.insertRequestRecords(records);
      },
    };
    const history = new HistoryWriter({
      store: slow,
      timers: realTimers,
      log: warnings().log,
      queueMax: 5,
      flushMs: 10,
    });
    history.record(record(0));
    await new Promise((resolve) => setTimeout(resolve, 40));
    // The first insert hangs: 5 wait, 3 are dropped, and record() still returns at once.
    const started = performance.now();
    for (let i = 1; i <= 8; i++) history.record(record(i));
    expect(performance.now() - started).toBeLessThan(50);
    expect(history.queued).toBe(5);
    expect(history.dropped).toBe(3);
    release();
    await history.close();
    expect((await stored(s)).map((r) => r.id).sort()).toEqual([
      'req-0',
      'req-1',
      'req-2',
      'req-3',
      'req-4',
      'req-5',
    ]);
  });
});
