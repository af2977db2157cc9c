/**
 * One record per finished request, and its two renderings: a terminal line
 * (`GET /path 200 12ms`) and a JSON line (`{"event":"request",...}`).
 */

import {
  realStopwatch,
  type ErrorCode,
  type RequestHead,
  type Stopwatch,
  type Timers,
} from '@burrow/protocol';

export interface RequestRecord {
  /** Tunnel name the request came in on. */
  readonly tunnel: string;
  readonly method: string;
  /** Path and query as the viewer sent them, except a `burrow_token` value, shown as `***`. */
  readonly path: string;
  /** The origin's status, or null when no response head was forwarded. */
  readonly status: number | null;
  /** Why the exchange failed, or null when it completed. */
  readonly error: ErrorCode | null;
  /** From the stream's arrival to its end, in whole ms (an upgrade's: the socket's life). */
  readonly durationMs: number;
  /** The viewer asked for an upgrade (WebSocket): the exchange may outlive any request. */
  readonly upgrade: boolean;
  /** The origin's time from dispatch to its response head, in ms (µs precision); null without a head. */
  readonly originMs: number | null;
  readonly requestId: string;
}

/**
 * `TUN_ERR_ORIGIN_*`: the origin refused, timed out, failed TLS or broke the exchange; and
 * `TUN_ERR_HEAD_INVALID`, a response head the origin got wrong. Other codes on a record (a
 * viewer's cancel, a dropped session) are not the origin's failure.
 */
export function isOriginError(code: ErrorCode): boolean {
  return code.startsWith('TUN_ERR_ORIGIN_') || code === 'TUN_ERR_HEAD_INVALID';
}

/**
 * Measures one exchange; `finish` returns the record the first time and null after. Made
 * when the stream arrives, right before the request is dispatched to the origin (same turn).
 */
export class RequestClock {
  private readonly head: RequestHead;
  private readonly upgrade: boolean;
  private readonly timers: Timers;
  private readonly stopwatch: Stopwatch;
  private readonly startedAt: number;
  private readonly dispatchedAt: number;
  private originMs: number | null = null;
  private done = false;

  constructor(head: RequestHead, upgrade: boolean, timers: Timers, stopwatch: Stopwatch = realStopwatch) {
    this.head = head;
    this.upgrade = upgrade;
    this.timers = timers;
    this.stopwatch = stopwatch;
    this.startedAt = timers.now();
    this.dispatchedAt = stopwatch();
  }

  get finished(): boolean {
    return this.done;
  }

  /** The origin's head arrived: its time since dispatch, rounded to µs, for HEAD's `originMs`. */
  headArrived(): number {
    const ms = Math.max(0, Math.round((this.stopwatch() - this.dispatchedAt) * 1000) / 1000);
    this.originMs = ms;
    return ms;
  }

  finish(status: number | null, error: ErrorCode | null): RequestRecord | null {
    if (this.done) return null;
    this.done = true;
    return {
      tunnel: this.head.tunnel,
      method: this.head.method,
      path: redactTokenParam(this.head.path),
      status,
      error,
      durationMs: Math.max(0, Math.round(this.timers.now() - this.startedAt)),
      upgrade: this.upgrade,
      originMs: this.originMs,
      requestId: this.head.requestId,
    };
  }
}

/** The query parameter a viewer may send the tunnel's auth token in; the edge reads the same exact name. */
const TOKEN_PARAM = /([?&]burrow_token=)[^&#]*/g;

/**
 * The edge cuts the tunnel token out of the request before forwarding it; this keeps the
 * token out of the log even if an edge (an older one, say) did not.
 */
export function redactTokenParam(path: string): string {
  // Runs for every request; most carry no token, and includes() is far cheaper than the regex.
  if (!path.includes('burrow_token=')) return path;
  return path.replace(TOKEN_PARAM, '$1***');
}

const ANSI = {
  green: '\u001b[32m',
  cyan: '\u001b[36m',
  yellow: '\u001b[33m',
  red: '\u001b[31m',
  reset: '\u001b[0m',
};

function colorOf(record: RequestRecord): string {
  if (record.error !== null || record.status === null || record.status >= 500) return ANSI.red;
  if (record.status >= 400) return ANSI.yellow;
  if (record.status >= 300) return ANSI.cyan;
  return ANSI.green;
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * Request paths are the viewer's bytes: control characters could move the cursor or
 * rewrite the terminal, so they are shown escaped (`\x1b`).
 */
export function printable(text: string): string {
  return text.replace(CONTROL_CHARS, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** `GET /path 200 12ms`; the error code replaces the status when the exchange failed. */
export function formatRequestLine(record: RequestRecord, options: { color: boolean }): string {
  const outcome = record.error ?? String(record.status ?? '-');
  const shown = options.color ? `${colorOf(record)}${outcome}${ANSI.reset}` : outcome;
  return `${printable(record.method)} ${printable(record.path)} ${shown} ${record.durationMs}ms`;
}

/**
 * The `--log json` event; `error` is present only when the exchange failed. `timing` has the
 * edge's record's field names for what the agent can see: the origin's time to its head and
 * the whole exchange (`totalMs`, the same as `durationMs`).
 */
export function requestEvent(record: RequestRecord): Record<string, unknown> {
  return {
    event: 'request',
    tunnel: record.tunnel,
    method: record.method,
    path: record.path,
    status: record.status,
    ...(record.error === null ? {} : { error: record.error }),
    durationMs: record.durationMs,
    timing: { originMs: record.originMs, totalMs: record.durationMs },
    requestId: record.requestId,
  };
}
