/**
 * A Server-Sent Events response (`text/event-stream`) as a feed sink: the head goes out at
 * once, each event is one write, a heartbeat is a comment line, and the end is a last
 * `event: end` naming why before the response closes. Works on HTTP/1.1 responses and on
 * HTTP/2 compatibility responses alike (no connection-specific headers).
 */

import type { ServerResponse } from 'node:http';
import type { Timers } from '@burrow/protocol';
import { viewerGone } from '../ingress/http2-request.js';
import type { FeedEndReason, FeedSink } from '../observe/request-feed.js';

/** Browsers' EventSource reconnects after this many ms when the stream ends. */
const RETRY_MS = 5_000;
/** A reader that stopped reading gets this long to take the final event before it is cut. */
const END_GRACE_MS = 10_000;

export class EventStream implements FeedSink {
  constructor(
    private readonly res: ServerResponse,
    private readonly timers: Timers,
  ) {}

  /** Sends the head and the reconnect delay; call once, before any event. */
  open(): void {
    const res = this.res;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      // Proxies such as nginx would otherwise hold events back to fill a buffer.
      'X-Accel-Buffering': 'no',
    });
    res.write(`retry: ${RETRY_MS}\n: burrow request stream\n\n`);
  }

  get buffered(): number {
    return this.res.writableLength;
  }

  /** True once the client left or the stream ended. */
  get closed(): boolean {
    return this.res.writableEnded || viewerGone(this.res);
  }

  event(text: string): void {
    if (!this.closed) this.res.write(text);
  }

  heartbeat(): void {
    if (!this.closed) this.res.write(': heartbeat\n\n');
  }

  end(reason: FeedEndReason): void {
    if (this.closed) return;
    const res = this.res;
    res.end(`event: end\ndata: ${JSON.stringify({ reason })}\n\n`);
    if (res.writableFinished) return;
    // Its buffer is full (a slow reader) or the edge is closing: never hold it open for good.
    const cut = this.timers.setTimeout(() => res.destroy(), END_GRACE_MS);
    res.once('close', () => this.timers.clearTimeout(cut));
  }
}
