/**
 * Headers and bodies of one exchange, kept for its record when the tunnel's policy turns
 * capture on. Bodies are copied chunk by chunk as they pass, up to the policy's `maxBytes`
 * each way; nothing beyond it is held, and the pipe is never slowed or paused for it.
 */

import type { CapturePolicy } from '../policy/index.js';
import type { RequestCapture } from '../store/request-records.js';
import { redactedHeaders } from './exchange-record.js';

/** The first `maxBytes` of a body, copied (a chunk's memory may be reused once it is written). */
export class BodyCapture {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly maxBytes: number) {}

  add(chunk: Buffer): void {
    const room = this.maxBytes - this.size;
    if (chunk.length > room) this.truncated = true;
    if (room <= 0 || chunk.length === 0) return;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(Buffer.from(kept));
    this.size += kept.length;
  }

  /** The kept bytes; null when none passed. */
  bytes(): Buffer | null {
    if (this.size === 0) return null;
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
  }
}

export class ExchangeCapture {
  /** Null when the policy keeps headers only. */
  readonly requestBody: BodyCapture | null;
  readonly responseBody: BodyCapture | null;
  /** The head the viewer got, as sent; null while none was. */
  responseHeaders: readonly string[] | null = null;

  constructor(policy: CapturePolicy) {
    this.requestBody = policy.bodies ? new BodyCapture(policy.maxBytes) : null;
    this.responseBody = policy.bodies ? new BodyCapture(policy.maxBytes) : null;
  }

  /** The record's capture, `requestHeaders` being the viewer's after hop-by-hop removal. */
  toRecord(requestHeaders: readonly string[], redact: ReadonlySet<string>, bodyWhole = true): RequestCapture {
    return {
      requestHeaders: redactedHeaders(requestHeaders, redact),
      requestBody: this.requestBody?.bytes() ?? null,
      // Also when the body did not reach the agent whole: what is kept is not the request.
      requestBodyTruncated: (this.requestBody?.truncated ?? false) || !bodyWhole,
      responseHeaders: this.responseHeaders === null ? [] : redactedHeaders(this.responseHeaders, redact),
      responseBody: this.responseBody?.bytes() ?? null,
      responseBodyTruncated: this.responseBody?.truncated ?? false,
    };
  }
}
