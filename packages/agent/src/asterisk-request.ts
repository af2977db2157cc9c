/**
 * Sends an asterisk-form request (`OPTIONS * HTTP/1.1`, RFC 9112 §3.2.4) to the origin.
 * undici refuses a path that does not start with "/", so this one request goes through
 * `node:http` instead, on a connection of its own, and drives the same undici dispatch
 * handler the pooled requests do: the HTTP forwarder streams the body, filters the headers
 * and answers the viewer exactly as for any other request.
 */

import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { TunnelError } from '@burrow/protocol';
import type { Dispatcher } from 'undici';
import { originHost, originPort } from './forward-context.js';
import { httpsOptions, type OriginTlsOptions } from './origin-tls-options.js';

export interface AsteriskRequest {
  readonly method: string;
  readonly path: string;
  /** Already filtered for the origin (requestHeadersForOrigin). */
  readonly headers: string[];
  /** The viewer's body, or null when the request has none. */
  readonly body: Readable | null;
}

/** Starts the request; every outcome reaches `handler` (errors via onResponseError). */
export function dispatchAsteriskForm(
  origin: URL,
  tls: OriginTlsOptions,
  request: AsteriskRequest,
  handler: Dispatcher.DispatchHandler,
): void {
  new AsteriskDispatch(origin, tls, request, handler).start();
}

function hasHeader(raw: readonly string[], lowerName: string): boolean {
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === lowerName) return true;
  return false;
}

class AsteriskDispatch implements Dispatcher.DispatchController {
  private readonly origin: URL;
  private readonly tls: OriginTlsOptions;
  private readonly options: AsteriskRequest;
  private readonly handler: Dispatcher.DispatchHandler;
  private request: http.ClientRequest | null = null;
  private response: http.IncomingMessage | null = null;
  private abortReason: Error | null = null;
  private isPaused = false;
  /** onResponseEnd or onResponseError was called: nothing more reaches the handler. */
  private done = false;
  rawHeaders: string[] | null = null;

  constructor(
    origin: URL,
    tls: OriginTlsOptions,
    options: AsteriskRequest,
    handler: Dispatcher.DispatchHandler,
  ) {
    this.origin = origin;
    this.tls = tls;
    this.options = options;
    this.handler = handler;
  }

  // ---- DispatchController --------------------------------------------------------------

  get aborted(): boolean {
    return this.abortReason !== null;
  }

  get paused(): boolean {
    return this.isPaused;
  }

  get reason(): Error | null {
    return this.abortReason;
  }

  abort(reason: Error): void {
    if (this.abortReason !== null) return;
    this.abortReason = reason;
    this.close();
    if (!this.done) {
      this.done = true;
      this.handler.onResponseError?.(this, reason);
    }
  }

  pause(): void {
    this.isPaused = true;
    this.response?.pause();
  }

  resume(): void {
    this.isPaused = false;
    this.response?.resume();
  }

  // ---- the request -----------------------------------------------------------------------

  start(): void {
    const { body } = this.options;
    const headers = [...this.options.headers];
    // node:http sends an OPTIONS body of unknown length unframed; undici would chunk it.
    if (body !== null && !hasHeader(headers, 'content-length')) headers.push('Transfer-Encoding', 'chunked');
    try {
      const secure = this.origin.protocol === 'https:';
      const request = (secure ? https : http).request({
        host: originHost(this.origin),
        port: originPort(this.origin),
        method: this.options.method,
        path: this.options.path,
        headers,
        setHost: false,
        agent: false,
        // Verified as the pooled requests are (origin-tls-options.ts).
        ...(secure ? httpsOptions(this.tls) : {}),
      });
      this.request = request;
      request.on('response', (res: http.IncomingMessage) => this.onResponse(res));
      request.on('error', (err) => this.fail(err));
      this.handler.onRequestStart?.(this, {});
      if (this.aborted) return;
      if (body === null) {
        request.end();
      } else {
        body.on('error', (err) => this.fail(err));
        body.pipe(request);
      }
    } catch (err) {
      this.fail(err);
    }
  }

  private onResponse(res: http.IncomingMessage): void {
    this.response = res;
    if (this.done) {
      res.destroy();
      return;
    }
    this.rawHeaders = res.rawHeaders;
    this.handler.onResponseStart?.(this, res.statusCode ?? 0, res.headers, res.statusMessage);
    if (this.done) return;
    if (this.isPaused) res.pause();
    res.on('data', (chunk: Buffer) => {
      if (!this.done) this.handler.onResponseData?.(this, chunk);
    });
    res.on('end', () => {
      if (this.done) return;
      this.done = true;
      this.handler.onResponseEnd?.(this, {});
      // The exchange is over even if the origin answered before reading the whole body.
      this.close();
    });
    res.on('error', (err) => this.fail(err));
    res.on('close', () => {
      if (!res.complete)
        this.fail(new TunnelError('TUN_ERR_ORIGIN_ERROR', 'the origin closed the connection'));
    });
  }

  private fail(err: unknown): void {
    if (this.done) return;
    this.done = true;
    this.close();
    this.handler.onResponseError?.(this, err instanceof Error ? err : new Error(String(err)));
  }

  private close(): void {
    this.options.body?.unpipe();
    this.request?.destroy();
    this.response?.destroy();
  }
}
