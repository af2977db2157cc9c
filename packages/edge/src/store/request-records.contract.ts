/**
 * The request-history half of the Store contract (see request-records.ts): inserts, the
 * API's filtered pages, single reads with capture, and retention. Run by store.contract.ts
 * on every backend.
 */
import { describe, expect, it } from 'vitest';
import { encodeRequestCursor } from './request-cursor.js';
import type { RequestQuery } from './request-records.js';
import type { Store } from './store.js';
import {
  MINUTE,
  T0,
  expectTunnelError,
  requestRecord as record,
  type ContractFixture,
} from './test-support/contract-fixture.js';

/** Every page of a query, following cursors; fails on a page over the limit or a loop. */
async function allPages(store: Store, query: RequestQuery): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let pages = 1; pages <= 1000; pages++) {
    const page = await store.listRequestRecords({ ...query, ...(cursor === undefined ? {} : { cursor }) });
    expect(page.records.length).toBeLessThanOrEqual(query.limit);
    ids.push(...page.records.map((r) => r.id));
    if (page.nextCursor === null) return { ids, pages };
    cursor = page.nextCursor;
  }
  throw new Error('pagination did not end');
}

export function describeRequestRecordsContract(fixture: ContractFixture): void {
  const store = (): Store => fixture.store();

  async function ids(query: Omit<RequestQuery, 'limit'> & { limit?: number }): Promise<string[]> {
    const page = await store().listRequestRecords({ limit: 200, ...query });
    return page.records.map((r) => r.id);
  }

  describe('request history: records', () => {
    it('round-trips every field, Buffers, fractions, big counts and nulls', async () => {
      const full = record('req_full', {
        userId: 'usr_bob',
        startedAt: new Date(T0 + 1234),
        method: 'POST',
        path: '/hooks/github?delivery=1&x=%20',
        host: 'web.tunnel.test:8443',
        status: 502,
        upgrade: true,
        bytesIn: 5_000_000_000,
        bytesOut: 7,
        clientAddress: '2001:db8::1',
        errorCode: 'TUN_ERR_ORIGIN_REFUSED',
        timing: { edgeMs: 0.123456789, tunnelMs: 17.5, originMs: 250.0625, totalMs: 268.686 },
        replayOf: 'req_original',
        capture: {
          requestHeaders: ['content-type', 'application/octet-stream', 'authorization', '***', 'x-e', 'é ✓'],
          requestBody: Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80, 0x00, 0x7f]),
          requestBodyTruncated: true,
          responseHeaders: ['content-length', '7'],
          responseBody: Buffer.from('bad gw\n'),
          responseBodyTruncated: false,
        },
      });
      const bare = record('req_bare', {
        userId: null,
        status: 0,
        bytesOut: 0,
        traceId: null,
        errorCode: 'TUN_ERR_AGENT_OFFLINE',
        timing: { edgeMs: null, tunnelMs: null, originMs: null, totalMs: 10_000 },
        capture: null,
      });
      const emptyBodies = record('req_empty', {
        capture: {
          requestHeaders: [],
          requestBody: null,
          requestBodyTruncated: false,
          responseHeaders: [],
          responseBody: null,
          responseBodyTruncated: false,
        },
      });
      await store().insertRequestRecords([full, bare, emptyBodies]);
      expect(await store().getRequestRecord('req_full')).toEqual(full);
      expect(await store().getRequestRecord('req_bare')).toEqual(bare);
      expect(await store().getRequestRecord('req_empty')).toEqual(emptyBodies);
      const got = await store().getRequestRecord('req_full');
      expect(Buffer.isBuffer(got?.capture?.requestBody)).toBe(true);
      expect(got?.bytesIn).toBe(5_000_000_000);
      expect(await store().getRequestRecord('req_missing')).toBeNull();
    });

    it('skips records whose id is stored already, in later batches and within one', async () => {
      await store().insertRequestRecords([record('a', { path: '/first' })]);
      await store().insertRequestRecords([
        record('a', { path: '/second' }),
        record('b', { path: '/b1' }),
        record('b', { path: '/b2' }),
        record('c'),
      ]);
      expect((await store().getRequestRecord('a'))?.path).toBe('/first');
      expect((await store().getRequestRecord('b'))?.path).toBe('/b1');
      expect((await ids({ tunnel: 'web' })).sort()).toEqual(['a', 'b', 'c']);
      await store().insertRequestRecords([]);
    });

    it('stores a batch larger than one statement takes, whole', async () => {
      const batch = Array.from({ length: 1234 }, (_, n) =>
        record(`r${String(n).padStart(5, '0')}`, { startedAt: new Date(T0 + n) }),
      );
      await store().insertRequestRecords(batch);
      const { ids: listed, pages } = await allPages(store(), { tunnel: 'web', limit: 200 });
      expect(pages).toBe(7);
      expect(listed).toEqual(batch.map((r) => r.id).reverse());
    });

    it('lists omit capture while get keeps it', async () => {
      const captured = record('cap', {
        capture: {
          requestHeaders: ['a', 'b'],
          requestBody: Buffer.from('request body'),
          requestBodyTruncated: false,
          responseHeaders: ['c', 'd'],
          responseBody: Buffer.from('response body'),
          responseBodyTruncated: true,
        },
      });
      await store().insertRequestRecords([captured]);
      const page = await store().listRequestRecords({ tunnel: 'web', limit: 10 });
      expect(page.records).toEqual([{ ...captured, capture: null }]);
      expect((await store().getRequestRecord('cap'))?.capture).toEqual(captured.capture);
    });
  });

  describe('request history: filters', () => {
    const at = (minutes: number) => new Date(T0 + minutes * MINUTE);
    const seed = () =>
      store().insertRequestRecords([
        record('s0', { status: 0, errorCode: 'TUN_ERR_VIEWER_GONE', startedAt: at(0) }),
        record('s101', { status: 101, upgrade: true, path: '/ws', startedAt: at(1) }),
        record('s200', { status: 200, path: '/api/users', startedAt: at(2) }),
        record('s204', { status: 204, method: 'DELETE', path: '/api/users/7', startedAt: at(3) }),
        record('s299', { status: 299, path: '/API/upper', startedAt: at(4) }),
        record('s301', { status: 301, path: '/100%_sure', startedAt: at(5) }),
        record('s404', { status: 404, method: 'POST', path: '/100_sure', startedAt: at(6) }),
        record('s502', { status: 502, errorCode: 'TUN_ERR_ORIGIN_REFUSED', startedAt: at(7) }),
        record('s599', { status: 599, userId: null, path: '/api', startedAt: at(8) }),
        record('other', { tunnel: 'api', status: 200, path: '/api/users', startedAt: at(9) }),
      ]);

    it('filters by status class, 0 meaning no status', async () => {
      await seed();
      expect(await ids({ tunnel: 'web', statusClass: 0 })).toEqual(['s0']);
      expect(await ids({ tunnel: 'web', statusClass: 1 })).toEqual(['s101']);
      expect(await ids({ tunnel: 'web', statusClass: 2 })).toEqual(['s299', 's204', 's200']);
      expect(await ids({ tunnel: 'web', statusClass: 3 })).toEqual(['s301']);
      expect(await ids({ tunnel: 'web', statusClass: 4 })).toEqual(['s404']);
      expect(await ids({ tunnel: 'web', statusClass: 5 })).toEqual(['s599', 's502']);
    });

    it('filters by tunnel, method and error code', async () => {
      await seed();
      expect(await ids({ tunnel: 'api' })).toEqual(['other']);
      expect(await ids({ tunnel: 'nothing' })).toEqual([]);
      expect(await ids({ tunnel: 'web', method: 'DELETE' })).toEqual(['s204']);
      expect(await ids({ tunnel: 'web', method: 'delete' })).toEqual([]);
      expect(await ids({ tunnel: 'web', errorCode: 'TUN_ERR_ORIGIN_REFUSED' })).toEqual(['s502']);
    });

    it('filters by an exact, case-sensitive path prefix; % and _ are plain characters', async () => {
      await seed();
      expect(await ids({ tunnel: 'web', pathPrefix: '/api' })).toEqual(['s599', 's204', 's200']);
      expect(await ids({ tunnel: 'web', pathPrefix: '/api/users/' })).toEqual(['s204']);
      expect(await ids({ tunnel: 'web', pathPrefix: '/API' })).toEqual(['s299']);
      expect(await ids({ tunnel: 'web', pathPrefix: '/100%' })).toEqual(['s301']);
      expect(await ids({ tunnel: 'web', pathPrefix: '/10%' })).toEqual([]);
      expect(await ids({ tunnel: 'web', pathPrefix: '/100_' })).toEqual(['s404']);
      expect(await ids({ tunnel: 'web', pathPrefix: '/1_0' })).toEqual([]);
      expect(await ids({ tunnel: 'web', pathPrefix: '' })).toHaveLength(9);
    });

    it('filters by time: since inclusive, until exclusive', async () => {
      await seed();
      expect(await ids({ tunnel: 'web', since: at(6) })).toEqual(['s599', 's502', 's404']);
      expect(await ids({ tunnel: 'web', until: at(2) })).toEqual(['s101', 's0']);
      expect(await ids({ tunnel: 'web', since: at(2), until: at(4) })).toEqual(['s204', 's200']);
    });

    it('isolates users: userId selects one owner, null the anonymous, absent everyone', async () => {
      await seed();
      await store().insertRequestRecords([record('bob1', { userId: 'usr_bob', startedAt: at(10) })]);
      expect(await ids({ tunnel: 'web', userId: 'usr_bob' })).toEqual(['bob1']);
      expect(await ids({ tunnel: 'web', userId: null })).toEqual(['s599']);
      expect(await ids({ tunnel: 'web', userId: 'usr_alice' })).toHaveLength(8);
      expect(await ids({ tunnel: 'web', userId: 'usr_nobody' })).toEqual([]);
      expect(await ids({ tunnel: 'web' })).toHaveLength(10);
    });

    it('combines filters', async () => {
      await seed();
      expect(
        await ids({ tunnel: 'web', statusClass: 2, pathPrefix: '/api', since: at(3), userId: 'usr_alice' }),
      ).toEqual(['s204']);
    });
  });

  describe('request history: pages', () => {
    it('pages newest first across equal timestamps without losing or repeating a record', async () => {
      // 23 records over 5 distinct instants, inserted in scrambled order.
      const batch = Array.from({ length: 23 }, (_, n) =>
        record(`id${String((n * 7) % 23).padStart(2, '0')}`, { startedAt: new Date(T0 + (n % 5) * 1000) }),
      );
      await store().insertRequestRecords(batch);
      const expected = [...batch]
        .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || (a.id < b.id ? 1 : -1))
        .map((r) => r.id);
      for (const limit of [1, 3, 4, 22, 23, 200]) {
        const { ids: listed, pages } = await allPages(store(), { tunnel: 'web', limit });
        expect(listed).toEqual(expected);
        expect(pages).toBe(Math.max(1, Math.ceil(23 / limit)));
      }
    });

    it('keeps a page stable when newer records arrive between pages', async () => {
      await store().insertRequestRecords(
        ['a', 'b', 'c', 'd'].map((id, n) => record(id, { startedAt: new Date(T0 + n) })),
      );
      const first = await store().listRequestRecords({ tunnel: 'web', limit: 2 });
      expect(first.records.map((r) => r.id)).toEqual(['d', 'c']);
      await store().insertRequestRecords([record('e', { startedAt: new Date(T0 + 10) })]);
      const second = await store().listRequestRecords({
        tunnel: 'web',
        limit: 2,
        cursor: first.nextCursor ?? undefined,
      });
      expect(second.records.map((r) => r.id)).toEqual(['b', 'a']);
      expect(second.nextCursor).toBeNull();
    });

    it('answers a filtered query with cursors that keep the filter', async () => {
      await store().insertRequestRecords(
        Array.from({ length: 10 }, (_, n) =>
          record(`r${n}`, { status: n % 2 === 0 ? 200 : 500, startedAt: new Date(T0 + n) }),
        ),
      );
      const { ids: listed } = await allPages(store(), { tunnel: 'web', statusClass: 5, limit: 2 });
      expect(listed).toEqual(['r9', 'r7', 'r5', 'r3', 'r1']);
    });

    it('refuses a cursor it did not make with TUN_ERR_BAD_REQUEST naming cursor', async () => {
      await store().insertRequestRecords([record('a')]);
      const bad = [
        '',
        'not a cursor!',
        '%%%',
        Buffer.from('hello').toString('base64url'),
        Buffer.from('12x:abc').toString('base64url'),
        Buffer.from(':abc').toString('base64url'),
        Buffer.from('123:').toString('base64url'),
        Buffer.from('99999999999999999:abc').toString('base64url'),
        `${encodeRequestCursor({ startedAtMs: T0, id: 'a' })}=`,
        Buffer.from([0xff, 0xfe, 0x3a]).toString('base64url'),
        'A'.repeat(5000),
        // A NUL is valid UTF-8 but no id of ours; PostgreSQL would fail on it with a 500.
        Buffer.from('123:a\u0000b').toString('base64url'),
      ];
      for (const cursor of bad) {
        await expectTunnelError(
          store().listRequestRecords({ tunnel: 'web', limit: 10, cursor }),
          'TUN_ERR_BAD_REQUEST',
          /cursor/,
        );
      }
      // A well-formed cursor naming a record that is gone still pages from its position.
      const page = await store().listRequestRecords({
        tunnel: 'web',
        limit: 10,
        cursor: encodeRequestCursor({ startedAtMs: T0 + 1, id: 'gone' }),
      });
      expect(page.records.map((r) => r.id)).toEqual(['a']);
    });

    it('refuses a page size outside 1 to 200 and an unknown status class, naming the field', async () => {
      for (const limit of [0, -1, 201, 1.5, Number.NaN]) {
        await expectTunnelError(
          store().listRequestRecords({ tunnel: 'web', limit }),
          'TUN_ERR_BAD_REQUEST',
          /limit/,
        );
      }
      await expectTunnelError(
        store().listRequestRecords({ tunnel: 'web', limit: 1, statusClass: 6 as never }),
        'TUN_ERR_BAD_REQUEST',
        /statusClass/,
      );
    });
  });

  describe('request history: retention', () => {
    it('prunes records older than the cut-off, keeping the rest', async () => {
      await store().insertRequestRecords(
        Array.from({ length: 6 }, (_, n) =>
          record(`r${n}`, { tunnel: n % 2 === 0 ? 'web' : 'api', startedAt: new Date(T0 + n * MINUTE) }),
        ),
      );
      const pass = await store().pruneRequestRecords({
        olderThan: new Date(T0 + 3 * MINUTE),
        keepPerTunnel: 1000,
      });
      expect(pass.deleted).toBe(3);
      expect(await ids({ tunnel: 'web' })).toEqual(['r4']);
      expect(await ids({ tunnel: 'api' })).toEqual(['r5', 'r3']);
      expect(await store().pruneRequestRecords({ olderThan: new Date(T0), keepPerTunnel: 1000 })).toEqual({
        deleted: 0,
        tunnelsChecked: 0,
        everyTunnel: false,
      });
    });

    it('keeps only the newest N per tunnel, ties broken by id as pages are', async () => {
      const web = Array.from({ length: 8 }, (_, n) =>
        record(`w${n}`, { startedAt: new Date(T0 + Math.floor(n / 3) * 1000) }),
      );
      const api = Array.from({ length: 3 }, (_, n) => record(`a${n}`, { tunnel: 'api' }));
      await store().insertRequestRecords([...web, ...api]);
      const keptBefore = (await ids({ tunnel: 'web' })).slice(0, 4);
      const first = await store().pruneRequestRecords({ olderThan: new Date(0), keepPerTunnel: 4 });
      // Every tunnel is counted; only web, over the cap, has its index walked.
      expect(first).toEqual({ deleted: 4, tunnelsChecked: 1, everyTunnel: true });
      expect(await ids({ tunnel: 'web' })).toEqual(keptBefore);
      expect(keptBefore).toEqual(['w7', 'w6', 'w5', 'w4']);
      expect(await ids({ tunnel: 'api' })).toEqual(['a2', 'a1', 'a0']);
      // A lower cap than the last pass's can leave any tunnel over it: every tunnel is checked.
      expect(await store().pruneRequestRecords({ olderThan: new Date(0), keepPerTunnel: 0 })).toEqual({
        deleted: 7,
        tunnelsChecked: 2,
        everyTunnel: true,
      });
      expect(await ids({ tunnel: 'web' })).toEqual([]);
    });

    it('prunes 100,000 records by age and count in chunks, fast', async () => {
      const tunnels = ['t0', 't1', 't2', 't3'];
      for (let start = 0; start < 100_000; start += 2_000) {
        await store().insertRequestRecords(
          Array.from({ length: 2_000 }, (_, k) => {
            const n = start + k;
            return record(`bulk${String(n).padStart(6, '0')}`, {
              tunnel: tunnels[n % 4],
              startedAt: new Date(T0 + n * 10),
            });
          }),
        );
      }
      const started = performance.now();
      // Age: the oldest 20,000 go; count: each tunnel keeps its newest 5,000 of the 20,000 left.
      const pass = await store().pruneRequestRecords({
        olderThan: new Date(T0 + 20_000 * 10),
        keepPerTunnel: 5_000,
      });
      const elapsedMs = performance.now() - started;
      expect(pass.deleted).toBe(80_000);
      for (const tunnel of tunnels) {
        const { ids: left } = await allPages(store(), { tunnel, limit: 200 });
        expect(left).toHaveLength(5_000);
        expect(left.at(-1)! >= 'bulk080000').toBe(true);
      }
      // Generous for a loaded machine; typical figures are in docs/store.md.
      expect(elapsedMs).toBeLessThan(20_000);
    }, 120_000);
  });
  describe('request history: retention checks only tunnels inserted for', () => {
    const keep = (olderThan: number, keepPerTunnel: number) => ({
      olderThan: new Date(olderThan),
      keepPerTunnel,
    });
    /** `count` records of `tunnel`, one a second from `from`, ids `<prefix><n>`. */
    const series = (prefix: string, tunnel: string, count: number, from = T0) =>
      Array.from({ length: count }, (_, n) =>
        record(`${prefix}${String(n).padStart(3, '0')}`, { tunnel, startedAt: new Date(from + n * 1000) }),
      );

    it('prunes a tunnel over its cap after inserts, and reads no tunnel without any', async () => {
      await store().insertRequestRecords([
        ...series('w', 'web', 5),
        ...series('a', 'api', 3),
        ...series('o', 'ops', 2),
      ]);
      // A store's first pass counts every tunnel and walks the one over the cap.
      expect(await store().pruneRequestRecords(keep(0, 3))).toEqual({
        deleted: 2,
        tunnelsChecked: 1,
        everyTunnel: true,
      });
      expect(await store().pruneRequestRecords(keep(0, 3))).toEqual({
        deleted: 0,
        tunnelsChecked: 0,
        everyTunnel: false,
      });

      await store().insertRequestRecords(series('x', 'web', 4, T0 + MINUTE));
      expect(await store().pruneRequestRecords(keep(0, 3))).toEqual({
        deleted: 4,
        tunnelsChecked: 1,
        everyTunnel: false,
      });
      expect(await ids({ tunnel: 'web' })).toEqual(['x003', 'x002', 'x001']);
      expect(await ids({ tunnel: 'api' })).toEqual(['a002', 'a001', 'a000']);
      expect(await ids({ tunnel: 'ops' })).toEqual(['o001', 'o000']);

      // A higher cap needs no full pass; a tunnel under it is checked and left alone.
      await store().insertRequestRecords(series('p', 'ops', 1, T0 + MINUTE));
      expect(await store().pruneRequestRecords(keep(0, 5))).toEqual({
        deleted: 0,
        tunnelsChecked: 1,
        everyTunnel: false,
      });
      expect(await ids({ tunnel: 'ops' })).toEqual(['p000', 'o001', 'o000']);
    });

    it('still prunes by age in every tunnel, inserted for or not', async () => {
      await store().insertRequestRecords([...series('w', 'web', 4), ...series('a', 'api', 4)]);
      expect((await store().pruneRequestRecords(keep(T0, 100))).deleted).toBe(0);
      // Nothing inserted since: no tunnel's count is read, yet the age cut reaches both.
      expect(await store().pruneRequestRecords(keep(T0 + 2_000, 100))).toEqual({
        deleted: 4,
        tunnelsChecked: 0,
        everyTunnel: false,
      });
      expect(await ids({ tunnel: 'web' })).toEqual(['w003', 'w002']);
      expect(await ids({ tunnel: 'api' })).toEqual(['a003', 'a002']);
    });

    it('enforces the cap after a restart: a reopened store checks every tunnel once', async () => {
      await store().pruneRequestRecords(keep(0, 3));
      // Inserted, then the edge stopped before its next pass.
      await store().insertRequestRecords([...series('w', 'web', 6), ...series('a', 'api', 2)]);
      await store().close();
      const restarted = await fixture.openStore();
      expect(await restarted.pruneRequestRecords(keep(0, 3))).toEqual({
        deleted: 3,
        tunnelsChecked: 1,
        everyTunnel: true,
      });
      expect(await restarted.listRequestRecords({ tunnel: 'web', limit: 10 })).toMatchObject({
        records: [{ id: 'w005' }, { id: 'w004' }, { id: 'w003' }],
      });
      expect(await restarted.pruneRequestRecords(keep(0, 3))).toEqual({
        deleted: 0,
        tunnelsChecked: 0,
        everyTunnel: false,
      });
    });

    it("leaves another store's inserts (another edge on the database) to that store's pass", async () => {
      const other = await fixture.openStore();
      expect((await store().pruneRequestRecords(keep(0, 2))).everyTunnel).toBe(true);
      expect((await other.pruneRequestRecords(keep(0, 2))).everyTunnel).toBe(true);
      await other.insertRequestRecords(series('w', 'web', 5));
      expect(await store().pruneRequestRecords(keep(0, 2))).toEqual({
        deleted: 0,
        tunnelsChecked: 0,
        everyTunnel: false,
      });
      expect(await other.pruneRequestRecords(keep(0, 2))).toEqual({
        deleted: 3,
        tunnelsChecked: 1,
        everyTunnel: false,
      });
      expect(await ids({ tunnel: 'web' })).toEqual(['w004', 'w003']);
    });

    it('finds the cut-off of a cap larger than one step across equal timestamps', async () => {
      // 22,000 records, 7 to a millisecond, so steps of the walk land inside runs of equal times.
      const all = Array.from({ length: 22_000 }, (_, n) =>
        record(`big${String(n).padStart(5, '0')}`, { startedAt: new Date(T0 + Math.floor(n / 7)) }),
      );
      for (let start = 0; start < all.length; start += 2_000) {
        await store().insertRequestRecords(all.slice(start, start + 2_000));
      }
      const kept = 12_345;
      const pass = await store().pruneRequestRecords(keep(0, kept));
      expect(pass.deleted).toBe(all.length - kept);
      const { ids: left } = await allPages(store(), { tunnel: 'web', limit: 200 });
      expect(left).toEqual(
        all
          .slice(-kept)
          .map((r) => r.id)
          .reverse(),
      );
    }, 120_000);

    it('checks every tunnel by counting slices of the index, walking only the crowded ones', async () => {
      // Names in index order: a-over (8), big (12,000: a slice of its own), 4,000 tunnels of
      // 3 (slices end inside them), zz (8, the last slice).
      const rows = [
        ...series('a', 'a-over', 8),
        ...Array.from({ length: 12_000 }, (_, n) =>
          record(`big${String(n).padStart(5, '0')}`, { tunnel: 'big', startedAt: new Date(T0 + n) }),
        ),
        ...Array.from({ length: 12_000 }, (_, n) =>
          record(`n${String(n).padStart(5, '0')}`, {
            tunnel: `n${String(n % 4_000).padStart(4, '0')}`,
            startedAt: new Date(T0 + n),
          }),
        ),
        ...series('z', 'zz', 8),
      ];
      for (let start = 0; start < rows.length; start += 2_000) {
        await store().insertRequestRecords(rows.slice(start, start + 2_000));
      }
      await store().close();
      const restarted = await fixture.openStore();
      expect(await restarted.pruneRequestRecords(keep(0, 5))).toEqual({
        deleted: 3 + 11_995 + 3,
        tunnelsChecked: 3,
        everyTunnel: true,
      });
      for (const tunnel of ['a-over', 'big', 'zz']) {
        expect((await restarted.listRequestRecords({ tunnel, limit: 10 })).records).toHaveLength(5);
      }
      expect((await restarted.listRequestRecords({ tunnel: 'n3999', limit: 10 })).records).toHaveLength(3);
      expect(await restarted.pruneRequestRecords(keep(0, 5))).toMatchObject({
        deleted: 0,
        tunnelsChecked: 0,
      });
    }, 120_000);

    it('walks a tunnel under its cap once, then not while its inserts since still fit', async () => {
      await store().pruneRequestRecords(keep(0, 10));
      await store().insertRequestRecords(series('w', 'web', 6));
      expect(await store().pruneRequestRecords(keep(0, 10))).toEqual({
        deleted: 0,
        tunnelsChecked: 1,
        everyTunnel: false,
      });
      // 6 seen + 4 inserted = 10: nothing to read.
      await store().insertRequestRecords(series('x', 'web', 4, T0 + MINUTE));
      expect(await store().pruneRequestRecords(keep(0, 10))).toEqual({
        deleted: 0,
        tunnelsChecked: 0,
        everyTunnel: false,
      });
      // One more passes the cap: walked, and cut back to 10.
      await store().insertRequestRecords(series('y', 'web', 1, T0 + 2 * MINUTE));
      expect(await store().pruneRequestRecords(keep(0, 10))).toEqual({
        deleted: 1,
        tunnelsChecked: 1,
        everyTunnel: false,
      });
      expect(await ids({ tunnel: 'web' })).toHaveLength(10);
      expect(await ids({ tunnel: 'web' })).not.toContain('w000');
      // A tunnel cut to the cap is seen at the cap: its next insert is walked.
      await store().insertRequestRecords(series('v', 'web', 1, T0 + 3 * MINUTE));
      expect(await store().pruneRequestRecords(keep(0, 10))).toMatchObject({ deleted: 1, tunnelsChecked: 1 });
    });

    it('takes a fractional cap as its whole part, so a cap just under the last is no lower one', async () => {
      await store().insertRequestRecords(series('w', 'web', 5));
      expect(await store().pruneRequestRecords(keep(0, 3.5))).toMatchObject({
        deleted: 2,
        everyTunnel: true,
      });
      expect(await store().pruneRequestRecords(keep(0, 3))).toEqual({
        deleted: 0,
        tunnelsChecked: 0,
        everyTunnel: false,
      });
      expect(await ids({ tunnel: 'web' })).toEqual(['w004', 'w003', 'w002']);
    });
  });
}
