/**
 * The PostgreSQL-backed Store: a `pg` pool behind Kysely's PostgreSQL dialect, migrated to
 * the latest schema (under an advisory lock, so several edges may start at once), handed
 * to the same dialect-neutral KyselyStore as SQLite. `pg` is loaded only when a database
 * URL is configured, so SQLite users never pay for it.
 */
import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { realTimers, TunnelError } from '@burrow/protocol';
import { KyselyStore } from './kysely-store.js';
import { migrateToLatest } from './migrate.js';
import { queryLog, type QueryTimer } from './query-timing.js';
import type { Database } from './schema.js';
import type { Clock, RandomBytes, Store } from './store.js';

export interface PostgresStoreOptions {
  /** `postgres://user:pass@host:port/database`; never printed whole. */
  url: string;
  clock?: Clock;
  random?: RandomBytes;
  /** Most connections the pool opens; default 10. */
  poolSize?: number;
  /** How long to wait for a connection, in ms; default 5000. */
  connectTimeoutMs?: number;
  /** Told each query's duration (metrics); none by default. */
  onQuery?: QueryTimer;
}

/** The URL without its password, for messages. */
export function describeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.username ? `${parsed.username}@` : ''}${parsed.host}${parsed.pathname}`;
  } catch {
    return 'the configured database URL';
  }
}

/**
 * Connects, checks the server answers, and migrates. Throws TUN_ERR_CONFIG_INVALID (naming
 * the server, never the password) when it cannot connect, TUN_ERR_INTERNAL when migrating
 * fails. Close the store when done; that ends the pool.
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const { default: pg } = await import('pg');
  // node-postgres reads int8 as strings; the row mappers accept both (see schema.ts Millis).
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
  });
  // An idle client losing its server must not crash the edge; the next query reports it.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log: queryLog(options.onQuery) });
  try {
    await sql`select 1`.execute(db);
  } catch (err) {
    await db.destroy();
    throw new TunnelError(
      'TUN_ERR_CONFIG_INVALID',
      `cannot use PostgreSQL at ${describeDatabaseUrl(options.url)}: ${(err as Error).message}; check databaseUrl (--database-url, BURROW_DATABASE_URL or DATABASE_URL)`,
      { cause: err },
    );
  }
  try {
    await migrateToLatest(db as Kysely<unknown>);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return new KyselyStore({ db, clock: options.clock ?? realTimers, random: options.random ?? randomBytes });
}
