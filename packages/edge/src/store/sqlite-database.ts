/**
 * Opens the SQLite file behind the store with the settings Burrow relies on: WAL (readers
 * never wait for the writer), a busy timeout (a second connection waits instead of failing
 * at once), and foreign keys (off by default in SQLite).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import type { Database as SqliteConnection } from 'better-sqlite3';
import { TunnelError } from '@burrow/protocol';
import { unwritableStoreFile } from './sqlite-file-access.js';

export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

export interface SqliteDatabaseOptions {
  /** Path of the database file, or `:memory:` for a private in-memory database. */
  file: string;
  /** How long a statement waits for another connection's lock before failing, in ms. */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating if needed) the database file and its directory. Throws
 * TUN_ERR_CONFIG_INVALID when the options are bad or the file cannot be opened.
 * The caller owns the connection and must close it.
 */
export function openSqliteDatabase(options: SqliteDatabaseOptions): SqliteConnection {
  const { file, busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS } = options;
  if (file === '') throw new TunnelError('TUN_ERR_CONFIG_INVALID', 'store file path is empty');
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new TunnelError('TUN_ERR_CONFIG_INVALID', `store busy timeout must be a whole number of ms >= 0`);
  }
  const inMemory = file === ':memory:';
  let connection: SqliteConnection | undefined;
  try {
    if (!inMemory) {
      mkdirSync(dirname(file), { recursive: true });
      // SQLite's own error would not say which file is to blame.
      const refusal = unwritableStoreFile(file);
      if (refusal !== null) throw new Error(refusal);
    }
    connection = new SqliteDatabase(file);
    // busy_timeout first: switching to WAL itself needs a lock another process may hold.
    connection.pragma(`busy_timeout = ${busyTimeoutMs}`);
    // WAL does not apply to in-memory databases (SQLite answers "memory"), nothing to check.
    const mode: unknown = connection.pragma('journal_mode = WAL', { simple: true });
    if (!inMemory && mode !== 'wal')
      throw new Error(`could not enable WAL (journal_mode is ${String(mode)})`);
    // NORMAL is durable across application crashes in WAL mode and only risks the last
    // transactions on power loss, for far fewer fsyncs than FULL.
    connection.pragma('synchronous = NORMAL');
    connection.pragma('foreign_keys = ON');
    return connection;
  } catch (err) {
    connection?.close();
    const detail = err instanceof Error ? err.message : String(err);
    throw new TunnelError('TUN_ERR_CONFIG_INVALID', `cannot open store file ${file}: ${detail}`, {
      cause: err,
    });
  }
}
