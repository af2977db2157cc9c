/**
 * Retention for the request history: by age, then by count per tunnel. Deletes go in
 * bounded chunks with a turn of the event loop between them, because better-sqlite3 runs
 * each statement synchronously: one DELETE of 100,000 rows would stall every connection
 * the edge serves for as long as it takes.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ExpressionBuilder, Expression, Kysely, SqlBool } from 'kysely';
import type { Database } from './schema.js';

/** Rows per DELETE statement. */
export const REQUEST_PRUNE_CHUNK = 5_000;

type Where = (eb: ExpressionBuilder<Database, 'request_records'>) => Expression<SqlBool>;

/** Deletes every row `where` selects, a chunk at a time; answers how many went. */
async function deleteInChunks(db: Kysely<Database>, where: Where): Promise<number> {
  let total = 0;
  for (;;) {
    const result = await db
      .deleteFrom('request_records')
      .where('id', 'in', (eb) =>
        eb.selectFrom('request_records').select('id').where(where).limit(REQUEST_PRUNE_CHUNK),
      )
      .executeTakeFirst();
    const deleted = Number(result.numDeletedRows);
    total += deleted;
    if (deleted < REQUEST_PRUNE_CHUNK) return total;
    await nextTurn();
  }
}

export async function pruneRequestRecords(
  db: Kysely<Database>,
  options: { olderThan: Date; keepPerTunnel: number },
): Promise<number> {
  const olderThan = options.olderThan.getTime();
  const keep = Math.max(0, Math.trunc(options.keepPerTunnel));
  let deleted = await deleteInChunks(db, (eb) => eb('started_at', '<', olderThan));

  // Only tunnels over the cap cost more than this one grouped scan of the tunnel index.
  const crowded = await db
    .selectFrom('request_records')
    .select('tunnel')
    .groupBy('tunnel')
    .having((eb) => eb.fn.countAll(), '>', keep)
    .execute();
  for (const { tunnel } of crowded) {
    // The newest record past the cap, by the page order (started_at desc, id desc): it and
    // everything older in this tunnel go.
    const cutoff = await db
      .selectFrom('request_records')
      .select(['started_at', 'id'])
      .where('tunnel', '=', tunnel)
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .offset(keep)
      .limit(1)
      .executeTakeFirst();
    if (cutoff === undefined) continue;
    const at = Number(cutoff.started_at);
    deleted += await deleteInChunks(db, (eb) =>
      eb.and([
        eb('tunnel', '=', tunnel),
        eb.or([eb('started_at', '<', at), eb.and([eb('started_at', '=', at), eb('id', '<=', cutoff.id)])]),
      ]),
    );
  }
  return deleted;
}
