/**
 * Forwards one ordinary HTTP request from a stream to the origin through undici's low-level
 * `dispatch`, which hands back the raw response headers (order, case and repeats kept, so
 * several Set-Cookie survive) and lets the body stream with backpressure both ways:
 *
 *   viewer body: the stream as a StreamReadable (the shared pipe's pull form; the stream is
 *                paused, withholding credit, while undici's buffer is full)
 *   response:    undici chunk → stream.write(); false pauses undici until the stream's 'drain'
 *
 * The response side stays on undici's handler callbacks rather than the shared pumps: they
 * are not a Node stream, and wrapping them in a Readable would add a buffer and an event
 * hop per chunk on the hottest path for the same pause/resume this does directly.
 *
 * The asterisk form (`OPTIONS *`), which undici refuses, goes through node:http with the same
 * handler (asterisk-request.ts).
 *
 * Errors before the response head become a RESET with an ORIGIN_* code (the edge answers
 * 502/504); after the head there is nothing to tell the viewer, so the stream is just reset.
 */

import { StreamReadable, TunnelError, type MuxStream, type RequestHead } from '@burrow/protocol';
import type { Dispatcher } from 'undici';
import { dispatchAsteriskForm } from './asterisk-request.js';
import { requestHeadersForOrigin, viewerHeadersFromRaw } from './hop-headers.js';
import { describeOriginError } from './network-error.js';
import { OriginExchange } from './origin-exchange.js';
import { checkOriginStatus, originResponseHead } from './response-head.js';
import { originAddress, type ForwardContext } from './forward-context.js';
import { POOLED_SERVERNAME } from './origin-pools.js';
import type { OriginTlsOptions } from './origin-tls-options.js';

/** Bytes undici may hold before the stream is paused; the stream's window bounds the rest. */
const BODY_HIGH_WATER_MARK = 64 * 1024;

/** Starts forwarding; never throws (a failure resets the stream). */
export function forwardHttp(
  stream: MuxStream,
  head: RequestHead,
  origin: URL,
  tls: OriginTlsOptions,
  context: ForwardContext,
): void {
  new HttpExchange(stream, head, origin, tls, context).start();
}

class HttpExchange extends OriginExchange implements Dispatcher.DispatchHandler {
  private body: StreamReadable | null = null;
  private controller: Dispatcher.DispatchController | null = null;
  private status: number | null = null;
  private noBody = false;
  private waitingForDrain = false;
  private timer: unknown = null;
  /** Last sign of life from the origin before its head: connected, or took body bytes. */
  private lastProgressAt: number;

  constructor(
    stream: MuxStream,
    head: RequestHead,
    origin: URL,
    tls: OriginTlsOptions,
    context: ForwardContext,
  ) {
    super(stream, head, origin, tls, context);
    this.lastProgressAt = context.timers.now();
  }

  start(): void {
    this.stream.on('reset', this.onViewerReset);
    // OPEN carried FIN: no body, so undici sends none.
    if (!this.stream.noBody) {
      this.body = new StreamReadable(this.stream, { highWaterMark: BODY_HIGH_WATER_MARK });
      this.stream.on('data', this.onProgress);
    }
    this.armTimer(this.context.originTimeoutMs);
    try {
      const request = {
        path: this.head.path,
        method: this.head.method,
        headers: requestHeadersForOrigin(this.head.headers),
        body: this.body,
        // Constant, so undici neither takes SNI from the Host header (the public name) nor drops
        // the connection whenever Host changes; the pool's connector sets the real SNI.
        servername: POOLED_SERVERNAME,
      };
      // undici cannot send the asterisk form (`OPTIONS *`); node:http can, on its own connection.
      if (this.head.path === '*') dispatchAsteriskForm(this.origin, this.tls, request, this);
      else this.context.pools.get(this.origin, this.tls).dispatch(request, this);
    } catch (err) {
      this.fail(err);
    }
  }

  // ---- undici handler ------------------------------------------------------------------

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    this.onProgress();
    // The viewer left or the head timed out while the request waited for a pooled connection.
    if (this.clock.finished) controller.abort(new TunnelError('TUN_ERR_STREAM_CANCELLED'));
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    _headers: unknown,
    statusMessage?: string,
  ): void {
    if (this.clock.finished) return;
    try {
      // Before the 1xx check: undici hands over a status like 099 and then fails an assertion.
      checkOriginStatus(statusCode, this.origin);
      // 1xx interim responses (103 Early Hints) are not forwarded; the final head follows.
      if (statusCode < 200) return;
      this.clearTimer();
      this.noBody = this.head.method.toUpperCase() === 'HEAD' || statusCode === 204 || statusCode === 304;
      const raw = Array.isArray(controller.rawHeaders) ? controller.rawHeaders : [];
      const head = originResponseHead(statusCode, statusMessage, viewerHeadersFromRaw(raw), this.origin);
      head.originMs = this.clock.headArrived();
      // Throws, sending nothing, for a head the edge would refuse (over the head limits).
      this.stream.respond(head, { fin: this.noBody });
      this.status = statusCode;
    } catch (err) {
      this.fail(err);
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.noBody || this.clock.finished) return;
    if (this.stream.write(chunk) || this.waitingForDrain) return;
    this.waitingForDrain = true;
    controller.pause();
    this.stream.once('drain', () => {
      this.waitingForDrain = false;
      controller.resume();
    });
  }

  onResponseEnd(): void {
    if (this.clock.finished) return;
    if (!this.noBody) this.stream.end();
    this.finish(null);
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, err: Error): void {
    this.fail(err);
  }

  // ---- outcomes ------------------------------------------------------------------------

  private readonly onViewerReset = (err: TunnelError): void => {
    if (this.clock.finished) return;
    this.finish(err);
    this.controller?.abort(err);
  };

  private readonly onProgress = (): void => {
    this.lastProgressAt = this.context.timers.now();
  };

  private fail(err: unknown): void {
    if (this.clock.finished) return;
    const reason = describeOriginError(err, originAddress(this.origin));
    this.finish(reason);
    this.stream.reset(reason);
    this.controller?.abort(reason);
  }

  private finish(err: TunnelError | null): void {
    const record = this.clock.finish(this.status, err?.code ?? null);
    if (record === null) return;
    this.clearTimer();
    this.stream.off('reset', this.onViewerReset);
    this.stream.off('data', this.onProgress);
    // A response can finish before the request body did (an early 413); the rest is discarded.
    this.body?.destroy();
    this.context.onRequest(record);
  }

  // ---- origin timeout ------------------------------------------------------------------

  /** One timer re-armed lazily: body chunks only move a timestamp, they do not reschedule. */
  private armTimer(delayMs: number): void {
    this.timer = this.context.timers.setTimeout(() => this.checkTimeout(), delayMs);
  }

  private checkTimeout(): void {
    this.timer = null;
    if (this.status !== null || this.clock.finished) return;
    const quietMs = this.context.timers.now() - this.lastProgressAt;
    const limit = this.context.originTimeoutMs;
    if (quietMs < limit) {
      this.armTimer(limit - quietMs);
      return;
    }
    this.fail(
      new TunnelError(
        'TUN_ERR_ORIGIN_TIMEOUT',
        `${originAddress(this.origin)} did not answer within ${limit} ms`,
      ),
    );
  }

  private clearTimer(): void {
    if (this.timer === null) return;
    this.context.timers.clearTimeout(this.timer);
    this.timer = null;
  }
}
