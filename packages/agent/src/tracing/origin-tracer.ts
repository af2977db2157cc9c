/**
 * Traces origin calls when span export is on. For a stream whose OPEN carries a sampled
 * `traceparent` (from the edge, its span as the parent), the origin gets a traceparent
 * naming a new span of the agent's instead, and when the exchange finishes that CLIENT span
 * is queued for export. Unsampled or unparseable: the head passes untouched, nothing is
 * exported. Per traced request: one id, one header list copy, one context object.
 */

import type { RequestHead, Timers } from '@burrow/protocol';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { ForwardContext, OriginCallTracer } from '../forward-context.js';
import { originSpanFrom, type SpanSource } from './origin-span.js';
import { formatTraceparent, newSpanId, parseTraceparent, traceparentIndex } from './traceparent.js';

/** Where finished spans go: the part of the SDK's SpanProcessor this uses. */
export interface SpanSink {
  /** Queues the span; never blocks (a full queue drops it). */
  onEnd(span: ReadableSpan): void;
  /** Sends what is queued, then stops accepting spans. */
  shutdown(): Promise<void>;
}

export interface OriginTracerDeps {
  readonly timers: Timers;
  /** Wall-clock ms since the epoch, with fractions; span timestamps. */
  readonly now?: () => number;
}

const wallClock = (): number => performance.timeOrigin + performance.now();

export class OriginTracer implements OriginCallTracer {
  private closing: Promise<void> | null = null;
  private readonly now: () => number;

  constructor(
    private readonly sink: SpanSink,
    private readonly source: SpanSource,
    private readonly deps: OriginTracerDeps,
  ) {
    this.now = deps.now ?? wallClock;
  }

  trace(
    head: RequestHead,
    origin: URL,
    context: ForwardContext,
  ): { head: RequestHead; context: ForwardContext } | null {
    if (this.closing !== null) return null;
    const at = traceparentIndex(head.headers);
    if (at === -1) return null;
    const parent = parseTraceparent(head.headers[at]);
    if (parent === null || !parent.sampled) return null;
    const spanId = newSpanId();
    const headers = head.headers.slice();
    headers[at] = formatTraceparent(parent.traceId, spanId, true);
    const call = {
      traceId: parent.traceId,
      spanId,
      parentSpanId: parent.parentSpanId,
      origin,
      startMs: this.now(),
    };
    const onRequest = context.onRequest;
    return {
      head: { ...head, headers },
      context: {
        ...context,
        onRequest: (record) => {
          if (this.closing === null) this.sink.onEnd(originSpanFrom(call, record, this.now(), this.source));
          onRequest(record);
        },
      },
    };
  }

  /**
   * Flushes the queue and stops; resolves within `timeoutMs` even when the collector does
   * not answer (what was not sent by then is lost). Idempotent.
   */
  close(timeoutMs: number): Promise<void> {
    if (this.closing !== null) return this.closing;
    const { timers } = this.deps;
    let timer: unknown;
    const deadline = new Promise<void>((resolve) => {
      timer = timers.setTimeout(resolve, timeoutMs);
    });
    this.closing = Promise.race([this.sink.shutdown().catch(() => undefined), deadline]).finally(() =>
      timers.clearTimeout(timer),
    );
    return this.closing;
  }
}
