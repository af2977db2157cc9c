/**
 * The SQLite-backed Store: opens the file, applies migrations, and hands the connection to
 * the dialect-neutral KyselyStore. A PostgreSQL factory would differ only in the dialect.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Kysely } from 'kysely';
import { realTimers } from '@burrow/protocol';
import { KyselyStore, type KyselyStoreOptions } from './kysely-store.js';
import { migrateToLatest } from './migrate.js';
import { queryLog, type QueryTimer } from './query-timing.js';
import { BurrowSqliteDialect } from './sqlite-dialect.js';
import type { Database } from './schema.js';
import { DEFAULT_BUSY_TIMEOUT_MS, openSqliteDatabase } from './sqlite-database.js';
import { RequestInsertThread, type InsertThreadLog } from './request-insert-thread.js';
import type { RequestRecord } from './request-records.js';
import type { Clock, RandomBytes } from './store.js';

export interface SqliteStoreOptions {
  /** Database file (its directory is created if missing), or `:memory:`. */
  file: string;
  /** Defaults to `Date.now`. */
  clock?: Clock;
  /** Defaults to `crypto.randomBytes`. */
  random?: RandomBytes;
  /** How long a write waits for another connection's lock, in ms; default 5000. */
  busyTimeoutMs?: number;
  /** Told each query's duration (metrics); none by default. */
  onQuery?: QueryTimer;
  /**
   * Request records are inserted from a worker thread with its own connection (a file only:
   * an in-memory database is private to its connection). Default true.
   */
  insertThread?: boolean;
  /** Where the insert thread says it started or stopped; nothing by default. */
  log?: InsertThreadLog;
}

/** The SQLite store: request records go through its insert thread, everything else through Kysely. */
export class SqliteStore extends KyselyStore {
  /** Null for `:memory:` or with `insertThread: false`: records are inserted on the connection. */
  readonly requestInserts: RequestInsertThread | null;

  constructor(options: KyselyStoreOptions, requestInserts: RequestInsertThread | null) {
    super(options);
    this.requestInserts = requestInserts;
  }

  protected override writeRequestRecords(records: readonly RequestRecord[]): Promise<void> {
    return this.requestInserts === null
      ? super.writeRequestRecords(records)
      : this.requestInserts.insert(records);
  }

  /** Batches in flight get up to 5 s (INSERT_THREAD_CLOSE_MS), then the connection closes. */
  override async close(): Promise<void> {
    await this.requestInserts?.close();
    await super.close();
  }
}

// better-sqlite3 is synchronous: a second connection in this process waiting for the
// migration's write lock would block the event loop, and with it the migration holding the
// lock, until busy_timeout expired. So migrations of one file in this process take turns;
// other processes wait on the lock itself (see sqlite-dialect.ts).
const migrationTurns = new Map<string, Promise<void>>();

async function inTurn<T>(key: string, task: () => Promise<T>): Promise<T> {
  const previous = migrationTurns.get(key) ?? Promise.resolve();
  const run = previous.then(task);
  const done = run.then(
    () => undefined,
    () => undefined,
  );
  migrationTurns.set(key, done);
  try {
    return await run;
  } finally {
    if (migrationTurns.get(key) === done) migrationTurns.delete(key);
  }
}

/**
 * Opens the store and migrates it to the latest schema; safe to call on an existing file,
 * and from several stores or processes sharing one file at once. Throws TUN_ERR_CONFIG_INVALID when the file
 * cannot be opened, TUN_ERR_INTERNAL when migrating fails. Close the store when done.
 */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteStore> {
  const connection = openSqliteDatabase({ file: options.file, busyTimeoutMs: options.busyTimeoutMs });
  const db = new Kysely<Database>({
    dialect: new BurrowSqliteDialect({ database: connection }),
    log: queryLog(options.onQuery),
  });
  try {
    // An in-memory database is private to its connection: nothing to take turns with.
    if (options.file === ':memory:') await migrateToLatest(db as Kysely<unknown>);
    else await inTurn(resolve(options.file), () => migrateToLatest(db as Kysely<unknown>));
  } catch (err) {
    await db.destroy();
    throw err;
  }
  const threaded = options.file !== ':memory:' && options.insertThread !== false;
  // Started by the first insert, after the migration above: CLI commands never start one.
  const inserts = threaded
    ? new RequestInsertThread({
        file: options.file,
        busyTimeoutMs: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
        onQuery: options.onQuery,
        log: options.log,
      })
    : null;
  return new SqliteStore(
    { db, clock: options.clock ?? realTimers, random: options.random ?? randomBytes },
    inserts,
  );
}
