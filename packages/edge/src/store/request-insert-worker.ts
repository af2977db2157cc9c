/**
 * The body of the SQLite insert thread (request-insert-thread.ts runs it in a worker): its
 * own better-sqlite3 connection to the store's file, one prepared statement, one IMMEDIATE
 * transaction per batch of rows (request-row.ts), and an answer per batch. It runs from its
 * source text (`Function.prototype.toString`), so the same code works from the TypeScript
 * sources, tsc's output and the bundled CLI without a file of its own: it must use nothing
 * but its parameters and globals (type imports only).
 */

import type { MessagePort } from 'node:worker_threads';
import type { Database as SqliteConnection } from 'better-sqlite3';
import type { RequestRowValue } from './request-row.js';

export interface InsertWorkerInit {
  file: string;
  busyTimeoutMs: number;
  /** `requestInsertSql()`: one row's insert. */
  sql: string;
  /** Values per row (`REQUEST_ROW_WIDTH`). */
  width: number;
  /** Columns whose values arrive as string arrays and are stored as JSON text. */
  jsonColumns: number[];
}

/** Main thread → worker. */
export type ToInsertWorker = { type: 'insert'; id: number; rows: RequestRowValue[] } | { type: 'close' };

/** Worker → main thread: each batch answered once; `failed` when the worker cannot work at all. */
export type FromInsertWorker =
  | { type: 'ready' }
  | { type: 'done'; id: number; ms: number; error: string | null }
  | { type: 'failed'; error: string };

/** Opens the connection; better-sqlite3's constructor, given by whoever starts the worker. */
export type OpenSqlite = (file: string) => SqliteConnection;

export function runRequestInsertWorker(port: MessagePort, open: OpenSqlite, init: InsertWorkerInit): void {
  const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));
  const send = (m: FromInsertWorker): void => port.postMessage(m);
  let db: SqliteConnection;
  let insertBatch: (rows: RequestRowValue[]) => void;
  try {
    db = open(init.file);
    // The main store set WAL and migrated the file before this thread started.
    db.pragma(`busy_timeout = ${init.busyTimeoutMs}`);
    db.pragma('synchronous = NORMAL');
    const insert = db.prepare(init.sql);
    const { width } = init;
    const isJson = Array.from({ length: width }, (_, i) => init.jsonColumns.includes(i));
    // One array reused for every row: better-sqlite3 binds an array as positional values.
    const row: unknown[] = new Array<unknown>(width);
    const run = db.transaction((rows: RequestRowValue[]) => {
      for (let at = 0; at < rows.length; at += width) {
        for (let i = 0; i < width; i++) {
          const value = rows[at + i];
          row[i] =
            value instanceof Uint8Array
              ? Buffer.from(value.buffer, value.byteOffset, value.byteLength)
              : value !== null && isJson[i] === true
                ? JSON.stringify(value)
                : value;
        }
        insert.run(row);
      }
    });
    // IMMEDIATE: the write lock up front, waiting out busy_timeout, never a failed upgrade.
    insertBatch = (rows) => run.immediate(rows);
  } catch (err) {
    send({ type: 'failed', error: message(err) });
    port.close();
    return;
  }
  port.on('message', (m: ToInsertWorker) => {
    if (m.type === 'close') {
      db.close();
      port.close();
      return;
    }
    const started = performance.now();
    let error: string | null = null;
    try {
      insertBatch(m.rows);
    } catch (err) {
      error = message(err);
    }
    send({ type: 'done', id: m.id, ms: performance.now() - started, error });
  });
  send({ type: 'ready' });
}
