/**
 * Request records into a SQLite file from a worker thread, so the inserts (15–20 µs a row,
 * synchronous in better-sqlite3) never run on the event loop. The main thread turns a batch
 * into one flat array of plain values (request-row.ts) and posts it; the worker
 * (request-insert-worker.ts) writes it in one transaction on its own connection and answers.
 * A failed batch, a worker that cannot start and a worker that dies reject the inserts they
 * concern (the history writer counts those records as dropped and says so); the next insert
 * starts a new worker, at most one a second. Nothing here throws on the event loop.
 */

import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { TunnelError } from '@burrow/protocol';
import type { QueryTimer } from './query-timing.js';
import {
  pushRequestRow,
  REQUEST_HEADERS_AT,
  REQUEST_ROW_WIDTH,
  requestInsertSql,
  RESPONSE_HEADERS_AT,
  type RequestRowValue,
} from './request-row.js';
import type { RequestRecord } from './request-records.js';
import {
  runRequestInsertWorker,
  type FromInsertWorker,
  type InsertWorkerInit,
  type ToInsertWorker,
} from './request-insert-worker.js';

/** How long `close` waits for batches in flight by default. */
export const INSERT_THREAD_CLOSE_MS = 5_000;
/** A worker that died is replaced no sooner than this after; inserts between fail (dropped). */
export const INSERT_THREAD_RESTART_MS = 1_000;
/** After the close message, how long the worker has to close its connection and exit. */
const EXIT_GRACE_MS = 1_000;

/** What the thread tells the edge's log; pino's `Logger` fits. */
export interface InsertThreadLog {
  info(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
}

export interface RequestInsertThreadOptions {
  /** The SQLite file, already migrated and in WAL mode. */
  file: string;
  busyTimeoutMs: number;
  /** Told each batch's insert time in the worker (the store's query metric). */
  onQuery?: QueryTimer;
  log?: InsertThreadLog;
  /** Default INSERT_THREAD_RESTART_MS. */
  restartMs?: number;
}

interface Batch {
  resolve(): void;
  reject(err: TunnelError): void;
}

let workerSource: string | null = null;

/** The worker's program: better-sqlite3 from where this module resolves it, then the body. */
function sourceOfWorker(): string {
  if (workerSource !== null) return workerSource;
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  workerSource = [
    "const { parentPort, workerData } = require('node:worker_threads');",
    `const Database = require(${JSON.stringify(driver)});`,
    `(${runRequestInsertWorker.toString()})(parentPort, (file) => new Database(file), workerData);`,
  ].join('\n');
  return workerSource;
}

function failure(message: string): TunnelError {
  return new TunnelError('TUN_ERR_INTERNAL', `request history insert failed: ${message}`);
}

export class RequestInsertThread {
  readonly #options: RequestInsertThreadOptions;
  #worker: Worker | null = null;
  /** Why the current worker is going away (its `failed` message or uncaught error). */
  #exitReason: string | null = null;
  /** When the last worker exited (performance.now), for the restart delay. */
  #diedAt = -Infinity;
  #startedOnce = false;
  #workers = 0;
  readonly #batches = new Map<number, Batch>();
  #nextBatch = 1;
  readonly #idleWaiters: (() => void)[] = [];
  #closing: Promise<void> | null = null;

  constructor(options: RequestInsertThreadOptions) {
    this.#options = options;
  }

  /** A worker was started (by the first insert). */
  get started(): boolean {
    return this.#workers > 0;
  }

  /** Batches posted and not yet answered. */
  get inFlight(): number {
    return this.#batches.size;
  }

  /** Resolves when the worker stored the batch (ids already stored are skipped); rejects with TUN_ERR_INTERNAL otherwise. */
  insert(records: readonly RequestRecord[]): Promise<void> {
    if (this.#closing !== null) {
      return Promise.reject(new TunnelError('TUN_ERR_INTERNAL', 'store is closed (insertRequestRecords)'));
    }
    if (records.length === 0) return Promise.resolve();
    const worker = this.#worker ?? this.#start();
    if (worker === null) {
      return Promise.reject(failure(`the insert thread stopped (${this.#exitReason ?? 'exited'})`));
    }
    const rows: RequestRowValue[] = [];
    for (const record of records) pushRequestRow(rows, record);
    const id = this.#nextBatch++;
    return new Promise<void>((resolve, reject) => {
      this.#batches.set(id, { resolve, reject });
      const message: ToInsertWorker = { type: 'insert', id, rows };
      worker.postMessage(message);
    });
  }

  /**
   * Waits up to `timeoutMs` for the batches in flight, then lets the worker close its
   * connection; batches still unanswered then are rejected. Later inserts are refused.
   */
  close(timeoutMs = INSERT_THREAD_CLOSE_MS): Promise<void> {
    this.#closing ??= this.#shutdown(timeoutMs);
    return this.#closing;
  }

  /** Ends the worker at once, as a crash would: its batches fail; the next insert starts another. */
  async abort(): Promise<void> {
    const worker = this.#worker;
    if (worker === null) return;
    this.#exitReason ??= 'aborted';
    await worker.terminate();
  }

  async #shutdown(timeoutMs: number): Promise<void> {
    const worker = this.#worker;
    if (worker === null) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    await within(this.#drained(), timeoutMs);
    this.#exitReason ??= 'the store closed';
    const bye: ToInsertWorker = { type: 'close' };
    worker.postMessage(bye);
    if (!(await within(exited, EXIT_GRACE_MS))) await worker.terminate();
  }

  /** Resolves once no batch is in flight (each settles by its answer or by the worker's exit). */
  #drained(): Promise<void> {
    if (this.#batches.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  #settled(): void {
    if (this.#batches.size > 0 || this.#idleWaiters.length === 0) return;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  #start(): Worker | null {
    const restartMs = this.#options.restartMs ?? INSERT_THREAD_RESTART_MS;
    if (performance.now() - this.#diedAt < restartMs) return null;
    this.#exitReason = null;
    const init: InsertWorkerInit = {
      file: this.#options.file,
      busyTimeoutMs: this.#options.busyTimeoutMs,
      sql: requestInsertSql(),
      width: REQUEST_ROW_WIDTH,
      jsonColumns: [REQUEST_HEADERS_AT, RESPONSE_HEADERS_AT],
    };
    let worker: Worker;
    try {
      worker = new Worker(sourceOfWorker(), { eval: true, workerData: init });
    } catch (err) {
      this.#exitReason = err instanceof Error ? err.message : String(err);
      this.#diedAt = performance.now();
      return null;
    }
    // A process ends when its work does; close() is what waits for the batches.
    worker.unref();
    worker.on('message', (m: FromInsertWorker) => this.#onMessage(worker, m));
    worker.on('error', (err) => {
      this.#exitReason ??= err.message;
    });
    worker.on('exit', (code) => this.#onExit(worker, code));
    this.#worker = worker;
    this.#workers++;
    return worker;
  }

  #onMessage(worker: Worker, m: FromInsertWorker): void {
    if (m.type === 'ready') {
      if (!this.#startedOnce) {
        this.#startedOnce = true;
        this.#options.log?.info(
          { file: this.#options.file, threadId: worker.threadId },
          'request history: inserting on a worker thread',
        );
      }
      return;
    }
    if (m.type === 'failed') {
      this.#exitReason = m.error;
      return;
    }
    // A batch, too, whose worker dies before answering settles in #onExit.
    const batch = this.#batches.get(m.id);
    if (batch === undefined) return;
    this.#batches.delete(m.id);
    this.#options.onQuery?.(m.ms, m.error !== null);
    if (m.error === null) batch.resolve();
    else batch.reject(failure(m.error));
    this.#settled();
  }

  #onExit(worker: Worker, code: number): void {
    if (this.#worker === worker) this.#worker = null;
    this.#diedAt = performance.now();
    const reason = this.#exitReason ?? `exit code ${code}`;
    if (this.#batches.size > 0 || this.#closing === null) {
      this.#options.log?.warn(
        { file: this.#options.file, batches: this.#batches.size, reason },
        'request history: the insert thread stopped; the next batch starts another',
      );
    }
    const lost = [...this.#batches.values()];
    this.#batches.clear();
    const err = failure(`the insert thread stopped (${reason})`);
    for (const batch of lost) batch.reject(err);
    this.#settled();
  }
}

/** True when `promise` settled within `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), expired]);
  } finally {
    clearTimeout(timer);
  }
}
