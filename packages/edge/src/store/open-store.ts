/**
 * The store an edge configuration names: PostgreSQL when `databaseUrl` is set, otherwise
 * SQLite in the data directory. The edge and every CLI command open it the same way.
 */
import { join } from 'node:path';
import { openPostgresStore } from './postgres-store.js';
import type { QueryTimer } from './query-timing.js';
import type { InsertThreadLog } from './request-insert-thread.js';
import { openSqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

export const SQLITE_FILE = 'burrow.db';

/** The SQLite file the configuration names, or null when the store is PostgreSQL. */
export function sqliteFileOf(config: { databaseUrl: string | null; dataDir: string }): string | null {
  return config.databaseUrl === null ? join(config.dataDir, SQLITE_FILE) : null;
}

/**
 * `onQuery`: told each query's duration (the edge's metrics); `log`: where SQLite's request
 * insert thread says it started or stopped. CLI commands leave both out.
 */
export function openConfiguredStore(
  config: { databaseUrl: string | null; dataDir: string },
  onQuery?: QueryTimer,
  log?: InsertThreadLog,
): Promise<Store> {
  if (config.databaseUrl !== null) return openPostgresStore({ url: config.databaseUrl, onQuery });
  return openSqliteStore({ file: join(config.dataDir, SQLITE_FILE), onQuery, log });
}
