/**
 * Exports the edge's span of every finished, sampled request: a RequestObserver that turns
 * the record into a span (edge-span.ts) and hands it to a bounded batch queue (the SDK's
 * BatchSpanProcessor in production, otlp-export.ts). `record` only builds one object and
 * pushes it; serializing and sending happen later, in batches, off the data path.
 */

import type { Timers } from '@burrow/protocol';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { edgeSpanFrom, type SpanSource } from './edge-span.js';
import type { RequestObserver, RequestRecord } from './request-observer.js';

/** Where finished spans go: the part of the SDK's SpanProcessor this uses. */
export interface SpanSink {
  /** Queues the span; never blocks (a full queue drops it). */
  onEnd(span: ReadableSpan): void;
  /** Sends what is queued, then stops accepting spans. */
  shutdown(): Promise<void>;
}

export class RequestSpanExporter implements RequestObserver {
  private closing: Promise<void> | null = null;

  constructor(
    private readonly sink: SpanSink,
    private readonly source: SpanSource,
    private readonly timers: Timers,
  ) {}

  record(record: RequestRecord): void {
    const trace = record.trace;
    // Unsampled traces (the viewer said so) are not exported, as the W3C flag asks.
    if (trace === undefined || !trace.sampled || this.closing !== null) return;
    this.sink.onEnd(edgeSpanFrom(record, trace, this.source));
  }

  /**
   * Flushes the queue and stops; resolves within `timeoutMs` even when the collector does
   * not answer (what was not sent by then is lost). Idempotent.
   */
  close(timeoutMs: number): Promise<void> {
    this.closing ??= boundedBy(this.sink.shutdown(), timeoutMs, this.timers);
    return this.closing;
  }
}

/** Waits for `work` at most `timeoutMs`; its failure is not the caller's problem (spans are best effort). */
export function boundedBy(work: Promise<void>, timeoutMs: number, timers: Timers): Promise<void> {
  let timer: unknown;
  const deadline = new Promise<void>((resolve) => {
    timer = timers.setTimeout(resolve, timeoutMs);
  });
  return Promise.race([work.catch(() => undefined), deadline]).finally(() => timers.clearTimeout(timer));
}
