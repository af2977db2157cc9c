/**
 * Request records into the store, off the data path: `record` only queues (bounded), and a
 * timer writes what is queued every `flushMs`, or soon after `BATCH_RECORDS` are waiting,
 * with one insert in flight at a time. When the store is slower than traffic (or down), the
 * queue fills and records are dropped and counted, never buffered without bound and never
 * waited for: `dropped` is what metrics report, and a warning says so at most every 10 s.
 */

import type { Timers } from '@burrow/protocol';
import { NO_TUNNEL, type RequestHistoryStore, type RequestRecord } from '../store/request-records.js';
import type { RequestObserver } from './request-observer.js';

/** Queued records that start a write before the timer would. */
export const BATCH_RECORDS = 1000;
/**
 * Most records one insert carries; a backlog goes out in several, one after another. A SQLite
 * file store inserts on its own thread (store/request-insert-thread.ts), where a bigger
 * transaction costs less per row; an in-memory one still inserts on the event loop, ~15-20 µs
 * a row, so this stays well under a frame's worth of blocking there.
 */
export const MAX_INSERT_RECORDS = 500;
/** Captured body bytes one insert carries at most (beside the record count). */
export const MAX_INSERT_BYTES = 8 * 1024 * 1024;
/** `history.queueBytes` default: captured body bytes waiting for the store. */
export const DEFAULT_QUEUE_BYTES = 64 * 1024 * 1024;
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
  /**
   * `history.queueBytes`: captured body bytes waiting (and in flight) at most. A record that
   * would pass it is kept without its bodies (headers stay, both bodies marked truncated).
   */
  queueBytes?: number;
}

/** Captured body bytes a record carries. */
function bodyBytes(record: RequestRecord): number {
  const capture = record.capture;
  if (capture === null) return 0;
  return (capture.requestBody?.length ?? 0) + (capture.responseBody?.length ?? 0);
}

/**
 * Requests for names that are no tunnel, and refusals that reached none (NO_TUNNEL), are
 * logged and counted elsewhere, never stored.
 */
function isNoTunnel(record: RequestRecord): boolean {
  return record.errorCode === 'TUN_ERR_TUNNEL_NOT_FOUND' || record.tunnel === NO_TUNNEL;
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
  /** Body bytes queued or in flight. */
  private bytes = 0;
  /** Records in the insert under way: counted as dropped if close gives up on it. */
  private inFlightCount = 0;
  private readonly queueBytes: number;

  constructor(options: HistoryWriterOptions) {
    this.options = options;
    this.queueBytes = options.queueBytes ?? DEFAULT_QUEUE_BYTES;
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
    // A viewer sending random Host names would otherwise grow the table without a tunnel's
    // per-name cap ever applying.
    if (isNoTunnel(record)) return;
    if (this.closing !== null || this.queue.length >= this.options.queueMax) {
      this.drop(1, null);
      return;
    }
    let size = bodyBytes(record);
    if (size > 0 && this.bytes + size > this.queueBytes) {
      record = withoutBodies(record);
      size = 0;
    }
    this.bytes += size;
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
    // An insert still under way is given up on: its records count as dropped too.
    if (this.inFlight !== null && this.inFlightCount > 0) {
      this.drop(this.inFlightCount, null);
      this.inFlightCount = 0;
    }
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
    // Up to MAX_INSERT_RECORDS, and no more body bytes than MAX_INSERT_BYTES (at least one record).
    let count = 0;
    let size = 0;
    const limit = Math.min(this.queue.length, MAX_INSERT_RECORDS);
    while (count < limit) {
      const next = bodyBytes(this.queue[count]!);
      if (count > 0 && size + next > MAX_INSERT_BYTES) break;
      size += next;
      count++;
    }
    const batch = count === this.queue.length ? this.queue : this.queue.slice(0, count);
    this.queue = batch === this.queue ? [] : this.queue.slice(count);
    this.inFlightCount = batch.length;
    this.inFlight = this.insert(batch).finally(() => {
      this.inFlight = null;
      this.inFlightCount = 0;
      this.bytes -= size;
      if (this.closing !== null || this.queue.length === 0) return;
      // A backlog goes on at once; a few records wait for the timer like any others.
      this.flushIn(this.queue.length >= BATCH_RECORDS ? 0 : this.options.flushMs);
    });
  }

  private async insert(batch: RequestRecord[]): Promise<void> {
    try {
      await this.options.store.insertRequestRecords(batch);
    } catch (err) {
      // Unless close already counted them, giving up on this insert.
      if (this.inFlightCount > 0) this.drop(batch.length, err);
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

/** The record with its captured bodies left out (over the queue's byte budget). */
function withoutBodies(record: RequestRecord): RequestRecord {
  const capture = record.capture!;
  return {
    ...record,
    capture: {
      ...capture,
      requestBody: null,
      requestBodyTruncated: capture.requestBody !== null || capture.requestBodyTruncated,
      responseBody: null,
      responseBodyTruncated: capture.responseBody !== null || capture.responseBodyTruncated,
    },
  };
}
