/**
 * Request records into the store, off the data path: `record` only queues (bounded), and a
 * timer writes what is queued every `flushMs`, or soon after `BATCH_RECORDS` are waiting,
 * with one insert in flight at a time. When the store is slower than traffic (or down), the
 * queue fills and records are dropped and counted, never buffered without bound and never
 * waited for: `dropped` is what metrics report, and a warning says so at most every 10 s.
 */

import type { Timers } from '@burrow/protocol';
import type { RequestHistoryStore, RequestRecord } from '../store/request-records.js';
import type { RequestObserver } from './request-observer.js';

/** Queued records that start a write before the timer would. */
export const BATCH_RECORDS = 500;
/**
 * Most records one insert carries; a backlog goes out in several, one after another with a
 * turn of the event loop between. SQLite (better-sqlite3) inserts synchronously, about 15–20
 * µs a row here: 200 rows hold the loop for ~4 ms, where 1,000 held it for ~20 ms.
 */
export const MAX_INSERT_RECORDS = 200;
/** Drop warnings are at least this far apart; the count covers everything dropped between. */
export const DROP_WARNING_MS = 10_000;
/** How long `close` waits for queued records by default. */
export const DEFAULT_CLOSE_MS = 5_000;

/** The writer's only use of the logger; pino's `Logger` fits. */
export interface WarningLog {
  warn(details: Record<string, unknown>, message: string): void;
}

export interface HistoryWriterOptions {
  store: Pick<RequestHistoryStore, 'insertRequestRecords'>;
  timers: Timers;
  log: WarningLog;
  /** `history.queueMax`: records waiting to be written; more are dropped. */
  queueMax: number;
  /** `history.flushMs`: the longest a record waits before its write starts. */
  flushMs: number;
}

export class HistoryWriter implements RequestObserver {
  private readonly options: HistoryWriterOptions;
  private queue: RequestRecord[] = [];
  /** The insert under way; never rejects. */
  private inFlight: Promise<void> | null = null;
  private timer: unknown = null;
  /** When the armed timer fires (timers.now), so a sooner flush can replace a later one. */
  private timerAt = Infinity;
  private droppedTotal = 0;
  /** Dropped since the last warning, and why (the last insert failure, if any). */
  private unreported = 0;
  private lastFailure: unknown = null;
  private lastWarningAt = -Infinity;
  private warningTimer: unknown = null;
  private closing: Promise<void> | null = null;

  constructor(options: HistoryWriterOptions) {
    this.options = options;
  }

  /** Records dropped since the start (queue full, insert failed, or left over at close). */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** Records waiting for the store (the insert in flight not included). */
  get queued(): number {
    return this.queue.length;
  }

  /** Queues one record; never blocks, throws or waits. */
  record(record: RequestRecord): void {
    if (this.closing !== null || this.queue.length >= this.options.queueMax) {
      this.drop(1, null);
      return;
    }
    this.queue.push(record);
    if (this.queue.length >= BATCH_RECORDS) this.flushIn(0);
    else if (this.timer === null) this.flushIn(this.options.flushMs);
  }

  /**
   * Writes what is queued, waiting at most `timeoutMs` (for the insert in flight too); what is
   * still unwritten then is counted as dropped. Later records are dropped. Call it before the
   * store closes.
   */
  close(timeoutMs = DEFAULT_CLOSE_MS): Promise<void> {
    this.closing ??= this.shutdown(timeoutMs);
    return this.closing;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    const { timers } = this.options;
    this.clearTimer();
    let deadline: unknown = null;
    let expired = false;
    const timeout = new Promise<void>((resolve) => {
      deadline = timers.setTimeout(() => {
        expired = true;
        resolve();
      }, timeoutMs);
    });
    const drain = (async () => {
      while (!expired) {
        if (this.inFlight !== null) await this.inFlight;
        else if (this.queue.length > 0) this.startInsert();
        else return;
      }
    })();
    await Promise.race([drain, timeout]);
    timers.clearTimeout(deadline);
    if (this.queue.length > 0) {
      this.drop(this.queue.length, null);
      this.queue = [];
    }
    timers.clearTimeout(this.warningTimer);
    this.warnNow();
  }

  /** Arms the flush timer for `ms` from now, unless one fires sooner already. */
  private flushIn(ms: number): void {
    const { timers } = this.options;
    const at = timers.now() + ms;
    if (this.timer !== null) {
      if (this.timerAt <= at) return;
      timers.clearTimeout(this.timer);
    }
    this.timerAt = at;
    this.timer = timers.setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.flush();
    }, ms);
  }

  private clearTimer(): void {
    if (this.timer === null) return;
    this.options.timers.clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }

  private flush(): void {
    // The insert in flight flushes again when it is done.
    if (this.inFlight !== null || this.queue.length === 0) return;
    this.startInsert();
  }

  private startInsert(): void {
    const batch =
      this.queue.length <= MAX_INSERT_RECORDS ? this.queue : this.queue.slice(0, MAX_INSERT_RECORDS);
    this.queue = batch === this.queue ? [] : this.queue.slice(MAX_INSERT_RECORDS);
    this.inFlight = this.insert(batch).finally(() => {
      this.inFlight = null;
      if (this.closing !== null || this.queue.length === 0) return;
      // A backlog goes on at once; a few records wait for the timer like any others.
      this.flushIn(this.queue.length >= BATCH_RECORDS ? 0 : this.options.flushMs);
    });
  }

  private async insert(batch: RequestRecord[]): Promise<void> {
    try {
      await this.options.store.insertRequestRecords(batch);
    } catch (err) {
      this.drop(batch.length, err);
    }
  }

  private drop(count: number, failure: unknown): void {
    this.droppedTotal += count;
    this.unreported += count;
    if (failure !== null) this.lastFailure = failure;
    if (this.closing !== null) return;
    const { timers } = this.options;
    const since = timers.now() - this.lastWarningAt;
    if (since >= DROP_WARNING_MS) this.warnNow();
    // Drops inside the quiet interval are told when it ends, even if no more come.
    else if (this.warningTimer === null)
      this.warningTimer = timers.setTimeout(() => {
        this.warningTimer = null;
        this.warnNow();
      }, DROP_WARNING_MS - since);
  }

  private warnNow(): void {
    if (this.unreported === 0) return;
    const failure = this.lastFailure;
    this.options.log.warn(
      {
        dropped: this.unreported,
        droppedTotal: this.droppedTotal,
        ...(failure === null ? {} : { err: failure }),
      },
      failure === null
        ? `request history: ${this.unreported} records dropped (the store is slower than traffic; history.queueMax is ${this.options.queueMax})`
        : `request history: ${this.unreported} records dropped (writing to the store failed)`,
    );
    this.unreported = 0;
    this.lastFailure = null;
    this.lastWarningAt = this.options.timers.now();
  }
}
