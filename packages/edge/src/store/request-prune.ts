/**
 * Retention for the request history: by age, then by count per tunnel, for the tunnels in
 * the pass's scope (dirty-tunnels.ts). Every statement is an index seek or a bounded walk
 * of one tunnel's index range, with a turn of the event loop between them, because
 * better-sqlite3 runs each statement synchronously: one DELETE of 100,000 rows, or one
 * grouped count over a million, would stall every connection the edge serves for as long
 * as it takes.
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
const FIRST_CHUNK = 100;
const SMALLEST_CHUNK = 50;
/** The event-loop time one DELETE statement aims to take. */
export const REQUEST_PRUNE_SLICE_MS = 8;
/** Index entries one statement walks at most to find a tunnel's cut-off. */
export const REQUEST_PRUNE_STEP = 10_000;

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
  let chunk = FIRST_CHUNK;
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
    if (deleted < chunk) return total;
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

/**
 * The newest record past the tunnel's newest `keep`, or undefined when it has no more than
 * that. A large cap is walked in steps of REQUEST_PRUNE_STEP entries, yielding between.
 */
async function cutoffOf(
  db: Kysely<Database>,
  tunnel: string,
  keep: number,
): Promise<RequestCursor | undefined> {
  let after: RequestCursor | undefined;
  let left = keep;
  while (left > REQUEST_PRUNE_STEP) {
    after = await recordPast(db, tunnel, after, REQUEST_PRUNE_STEP - 1);
    if (after === undefined) return undefined;
    left -= REQUEST_PRUNE_STEP;
    await nextTurn();
  }
  return recordPast(db, tunnel, after, left);
}

/** Deletes all but the tunnel's newest `keep` records; answers how many went. */
async function capTunnel(db: Kysely<Database>, tunnel: string, keep: number): Promise<number> {
  const cutoff = await cutoffOf(db, tunnel, keep);
  if (cutoff === undefined) return 0;
  // The cut-off and everything after it in page order (older) goes.
  return deleteInChunks(
    db,
    (eb) => eb.and([eb('tunnel', '=', tunnel), inPageOrderAfter(eb, cutoff, { inclusive: true })]),
    ['started_at', 'id'],
  );
}

/** The first tunnel name after `after` in the table (one index seek), or undefined past the last. */
async function nextTunnel(db: Kysely<Database>, after: string | undefined): Promise<string | undefined> {
  let select = db.selectFrom('request_records').select('tunnel');
  if (after !== undefined) select = select.where('tunnel', '>', after);
  const row = await select.orderBy('tunnel').limit(1).executeTakeFirst();
  return row?.tunnel;
}

export async function pruneRequestRecords(
  db: Kysely<Database>,
  options: { olderThan: Date; keepPerTunnel: number },
  scope: PruneScope,
): Promise<RequestPruneStats> {
  const olderThan = options.olderThan.getTime();
  const keep = Math.max(0, Math.trunc(options.keepPerTunnel));
  // A seek on the started_at index: with nothing that old, one probe and done.
  let deleted = await deleteInChunks(db, (eb) => eb('started_at', '<', olderThan), ['started_at']);
  let tunnelsChecked = 0;
  if (scope.every) {
    // Every name, one seek each, instead of one grouped scan of the whole index.
    for (
      let tunnel = await nextTunnel(db, undefined);
      tunnel !== undefined;
      tunnel = await nextTunnel(db, tunnel)
    ) {
      await nextTurn();
      deleted += await capTunnel(db, tunnel, keep);
      tunnelsChecked++;
    }
  } else {
    for (const tunnel of scope.tunnels) {
      await nextTurn();
      deleted += await capTunnel(db, tunnel, keep);
      tunnelsChecked++;
    }
  }
  return { deleted, tunnelsChecked, everyTunnel: scope.every };
}
