/**
 * Retention for the request history: by age, then by count per tunnel, for the tunnels in
 * the pass's scope (dirty-tunnels.ts), or for those over the cap when the scope is every
 * tunnel. Every statement is an index seek or a bounded walk of the index, with a turn of
 * the event loop between them, because better-sqlite3 runs each statement synchronously:
 * one DELETE of 100,000 rows, or one grouped count over a million, would stall every
 * connection the edge serves for as long as it takes.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ExpressionBuilder, Expression, Kysely, SqlBool } from 'kysely';
import type { PruneScope } from './dirty-tunnels.js';
import type { RequestCursor } from './request-cursor.js';
import { inPageOrderAfter } from './request-queries.js';
import type { RequestPruneStats } from './request-records.js';
import type { Database } from './schema.js';

/**
 * Rows per DELETE statement at most. A row count alone bounds no stall: a tunnel's oldest
 * rows lie scattered among other tunnels' and cost several times a contiguous row of the
 * age cut (SQLite at 1M rows: about 20 µs against 3 µs). So a pass starts small and sizes
 * each chunk from the event-loop time the last one took, to take about
 * REQUEST_PRUNE_SLICE_MS.
 */
export const REQUEST_PRUNE_CHUNK = 5_000;
/** Rows the first DELETE of a run takes at most. */
export const REQUEST_PRUNE_FIRST_CHUNK = 100;
const SMALLEST_CHUNK = 50;
/** The event-loop time one DELETE statement aims to take. */
export const REQUEST_PRUNE_SLICE_MS = 8;
/** Index entries one statement walks at most to find a tunnel's cut-off. */
export const REQUEST_PRUNE_STEP = 10_000;
/** Index entries one grouped count of a whole-table check covers at most. */
export const REQUEST_PRUNE_SLICE = 10_000;
/** Times a tunnel's cut-off is looked up in one pass at most (deletes by another edge can cut a run short). */
const CAP_ROUNDS = 3;

/** The cap as the pass applies it: a whole number, 0 at least. Normalise before DirtyTunnels.take. */
export function normalisedKeep(keepPerTunnel: number): number {
  return Math.max(0, Math.trunc(keepPerTunnel));
}

type Where = (eb: ExpressionBuilder<Database, 'request_records'>) => Expression<SqlBool>;

/**
 * Deletes every row `where` selects, oldest first (by `order`, an index's own order), a
 * chunk at a time; answers how many went. The order is what keeps PostgreSQL on the index:
 * with stale statistics (a table just filled, not yet analyzed) it took an unordered
 * `LIMIT` for a sequential scan, 80 ms over 1M rows to find nothing to delete.
 */
async function deleteInChunks(
  db: Kysely<Database>,
  where: Where,
  order: readonly ('started_at' | 'id')[],
): Promise<number> {
  let total = 0;
  let chunk = REQUEST_PRUNE_FIRST_CHUNK;
  for (;;) {
    const before = performance.eventLoopUtilization();
    const result = await db
      .deleteFrom('request_records')
      .where('id', 'in', (eb) => {
        let oldest = eb.selectFrom('request_records').select('id').where(where);
        for (const column of order) oldest = oldest.orderBy(column);
        return oldest.limit(chunk);
      })
      .executeTakeFirst();
    // Event-loop time, not wall time: a better-sqlite3 statement blocks the loop for all of
    // it, a PostgreSQL one only for sending and reading (other work meanwhile counts too, so
    // a busy edge deletes in smaller chunks).
    const blockedMs = performance.eventLoopUtilization(before).active;
    const deleted = Number(result.numDeletedRows);
    total += deleted;
    // Fewer than asked is not the end: on PostgreSQL another edge deleting the same rows at
    // once leaves this statement only the ids it got to first. Only an empty one is.
    if (deleted === 0) return total;
    const fits = Math.floor((chunk * REQUEST_PRUNE_SLICE_MS) / Math.max(blockedMs, 0.1));
    chunk = Math.min(REQUEST_PRUNE_CHUNK, Math.max(SMALLEST_CHUNK, fits));
    await nextTurn();
  }
}

/** The tunnel's record `skip` places past `after` in page order (newest first), or undefined. */
async function recordPast(
  db: Kysely<Database>,
  tunnel: string,
  after: RequestCursor | undefined,
  skip: number,
): Promise<RequestCursor | undefined> {
  let select = db.selectFrom('request_records').select(['started_at', 'id']).where('tunnel', '=', tunnel);
  if (after !== undefined) select = select.where((eb) => inPageOrderAfter(eb, after));
  const row = await select
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .offset(skip)
    .limit(1)
    .executeTakeFirst();
  return row === undefined ? undefined : { startedAtMs: Number(row.started_at), id: row.id };
}

/** How many of the tunnel's records lie past `after` in page order, counting `most` at most. */
async function countPast(
  db: Kysely<Database>,
  tunnel: string,
  after: RequestCursor | undefined,
  most: number,
): Promise<number> {
  if (most === 0) return 0;
  let select = db.selectFrom('request_records').select('id').where('tunnel', '=', tunnel);
  if (after !== undefined) select = select.where((eb) => inPageOrderAfter(eb, after));
  // In the index's order, so the count is a walk of that range (see deleteInChunks).
  const past = select.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(most);
  const row = await db
    .selectFrom(past.as('past'))
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/**
 * The newest record past the tunnel's newest `keep`, or, when it has no more than that, how
 * many it has. A large cap is walked in steps of REQUEST_PRUNE_STEP entries, yielding
 * between; the count costs one more statement over the last step's entries.
 */
async function cutoffOf(
  db: Kysely<Database>,
  tunnel: string,
  keep: number,
): Promise<{ cutoff: RequestCursor } | { count: number }> {
  let after: RequestCursor | undefined;
  let walked = 0;
  while (keep - walked > REQUEST_PRUNE_STEP) {
    const next = await recordPast(db, tunnel, after, REQUEST_PRUNE_STEP - 1);
    if (next === undefined)
      return { count: walked + (await countPast(db, tunnel, after, REQUEST_PRUNE_STEP)) };
    after = next;
    walked += REQUEST_PRUNE_STEP;
    await nextTurn();
  }
  const cutoff = await recordPast(db, tunnel, after, keep - walked);
  if (cutoff !== undefined) return { cutoff };
  return { count: walked + (await countPast(db, tunnel, after, keep - walked)) };
}

/** Told what a pass learned of the tunnels it walked (DirtyTunnels). */
export interface PruneObserver {
  /** The tunnel held `count` records when the pass left it. */
  saw(tunnel: string, count: number): void;
  /** The tunnel may still be over the cap: the next pass checks it, whatever count it saw before. */
  recheck(tunnel: string): void;
}

/**
 * Deletes all but the tunnel's newest `keep` records; answers how many went. The cut-off is
 * looked up again after each run of deletes, up to CAP_ROUNDS times: on PostgreSQL another
 * edge pruning the same tunnel at once (by age, or to another cap) can delete the rows this
 * run chose, and its statement then deletes none while the tunnel is still over.
 */
async function capTunnel(
  db: Kysely<Database>,
  tunnel: string,
  keep: number,
  observer: PruneObserver,
): Promise<number> {
  let deleted = 0;
  for (let round = 0; round < CAP_ROUNDS; round++) {
    const seen = await cutoffOf(db, tunnel, keep);
    if ('count' in seen) {
      observer.saw(tunnel, seen.count);
      return deleted;
    }
    // The cut-off and everything after it in page order (older) goes.
    deleted += await deleteInChunks(
      db,
      (eb) => eb.and([eb('tunnel', '=', tunnel), inPageOrderAfter(eb, seen.cutoff, { inclusive: true })]),
      ['started_at', 'id'],
    );
    await nextTurn();
  }
  observer.recheck(tunnel);
  return deleted;
}

/** The first tunnel name after `after` in the table (one index seek), or undefined past the last. */
async function nextTunnel(db: Kysely<Database>, after: string | undefined): Promise<string | undefined> {
  let select = db.selectFrom('request_records').select('tunnel');
  if (after !== undefined) select = select.where('tunnel', '>', after);
  const row = await select.orderBy('tunnel').limit(1).executeTakeFirst();
  return row?.tunnel;
}

/** The tunnel of the index entry `skip` places on from the first of `from` (a walk of `skip` entries). */
async function tunnelAt(db: Kysely<Database>, from: string, skip: number): Promise<string | undefined> {
  const row = await db
    .selectFrom('request_records')
    .select('tunnel')
    .where('tunnel', '>=', from)
    .orderBy('tunnel')
    .offset(skip)
    .limit(1)
    .executeTakeFirst();
  return row?.tunnel;
}

/**
 * Every tunnel of the table that can be over `keep`, in name order: a grouped count over a
 * slice of at most REQUEST_PRUNE_SLICE index entries at a time, a turn of the event loop
 * between slices, so the cost follows the rows and the crowded tunnels, not the names (a
 * million temporary names of a few records each are a hundred slices, not two million
 * seeks). A tunnel that fills a slice alone is answered as it is, for its own stepped walk.
 */
async function* crowdedTunnels(db: Kysely<Database>, keep: number): AsyncGenerator<string> {
  let from = await nextTunnel(db, undefined);
  while (from !== undefined) {
    const end = await tunnelAt(db, from, REQUEST_PRUNE_SLICE);
    if (end === from) {
      yield from;
      from = await nextTunnel(db, from);
    } else {
      let slice = db.selectFrom('request_records').select('tunnel').where('tunnel', '>=', from);
      if (end !== undefined) slice = slice.where('tunnel', '<', end);
      const rows = await slice
        .groupBy('tunnel')
        .having((eb) => eb.fn.countAll(), '>', keep)
        .orderBy('tunnel')
        .execute();
      for (const row of rows) yield row.tunnel;
      from = end;
    }
    await nextTurn();
  }
}

/**
 * One pass: the age cut, then the cap for each tunnel in `scope` (or each crowded one when
 * the scope is every tunnel); `observer` learns each walked tunnel's count. `keep` must be
 * normalised (normalisedKeep) by the caller, which took the scope with it.
 */
export async function pruneRequestRecords(
  db: Kysely<Database>,
  options: { olderThan: Date; keep: number },
  scope: PruneScope,
  observer: PruneObserver,
): Promise<RequestPruneStats> {
  const { keep } = options;
  // A seek on the started_at index: with nothing that old, one probe and done.
  let deleted = await deleteInChunks(db, (eb) => eb('started_at', '<', options.olderThan.getTime()), [
    'started_at',
  ]);
  let tunnelsChecked = 0;
  const tunnels = scope.every ? crowdedTunnels(db, keep) : scope.tunnels;
  for await (const tunnel of tunnels) {
    await nextTurn();
    deleted += await capTunnel(db, tunnel, keep, observer);
    tunnelsChecked++;
  }
  return { deleted, tunnelsChecked, everyTunnel: scope.every };
}
