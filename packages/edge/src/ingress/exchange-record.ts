/**
 * What an exchange needs to make its request record and its `Server-Timing` header: the
 * settings that shape a record, and the arithmetic from the exchange's step times (ms on a
 * monotonic stopwatch: head arrival, OPEN sent, HEAD received, viewer response closed) to the
 * record's timing breakdown. Nothing here runs for a request nobody observes.
 */

import type { RequestTiming } from '../store/request-records.js';

/** How records are made (the edge's `history.*` settings). */
export interface RecordOptions {
  /** `history.keepQuery`: false drops the query from recorded paths. */
  readonly keepQuery: boolean;
  /** `history.redactHeaders`, lower-case: captured values of these headers are stored as `***`. */
  readonly redactHeaders: ReadonlySet<string>;
}

export const DEFAULT_RECORD_OPTIONS: RecordOptions = {
  keepQuery: true,
  redactHeaders: new Set(['authorization', 'cookie', 'set-cookie', 'proxy-authorization']),
};

/** Longest recorded path and host; longer ones are cut, never refused. */
export const MAX_RECORD_PATH = 2048;
export const MAX_RECORD_HOST = 255;

/** The exchange's steps on its stopwatch, ms; NaN for a step that did not happen. */
export interface StepTimes {
  readonly arrivedAt: number;
  readonly openedAt: number;
  readonly headAt: number;
  /** What the agent said in HEAD; null when it did not. */
  readonly originMs: number | null;
}

/** µs are plenty, and keep JSON and log lines short. */
export function recordMs(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/**
 * The tunnel's share of OPEN → HEAD: the round trip less the origin's own time (clamped at 0,
 * the two clocks being different machines'), or the whole round trip when the agent did not say.
 */
function tunnelShare(steps: StepTimes): number {
  const roundTrip = steps.headAt - steps.openedAt;
  return steps.originMs === null ? roundTrip : Math.max(0, roundTrip - steps.originMs);
}

/**
 * The agent's word for the origin's time, never more than the round trip the edge measured
 * itself: an agent must not be able to put `1e300` into the edge-wide histograms or the
 * viewer's Server-Timing.
 */
function originShare(steps: StepTimes): number | null {
  return steps.originMs === null
    ? null
    : Math.min(steps.originMs, Math.max(0, steps.headAt - steps.openedAt));
}

/** The record's timing, the viewer's response having closed at `closedAt`. */
export function recordTiming(steps: StepTimes, closedAt: number): RequestTiming {
  const opened = !Number.isNaN(steps.openedAt);
  const answered = opened && !Number.isNaN(steps.headAt);
  return {
    edgeMs: opened ? recordMs(steps.openedAt - steps.arrivedAt) : null,
    tunnelMs: answered ? recordMs(tunnelShare(steps)) : null,
    originMs: answered ? originShare(steps) : null,
    totalMs: recordMs(Math.max(0, closedAt - steps.arrivedAt)),
  };
}

function dur(value: number): string {
  return (Math.round(value * 10) / 10).toString();
}

/** `edge;dur=0.4, tunnel;dur=1.2, origin;dur=30.5` once HEAD arrived; origin left out when unknown. */
export function serverTimingValue(steps: StepTimes): string {
  const value = `edge;dur=${dur(steps.openedAt - steps.arrivedAt)}, tunnel;dur=${dur(tunnelShare(steps))}`;
  const origin = originShare(steps);
  return origin === null ? value : `${value}, origin;dur=${dur(origin)}`;
}

const TOKEN_PARAM = /([?&]burrow_token=)[^&#]*/g;

/**
 * The path as a record keeps it: without the query unless `keepQuery`, a `burrow_token` value
 * shown as `***` (a refused request's path is the viewer's, not the policy-stripped one), cut
 * at MAX_RECORD_PATH.
 */
export function recordPath(path: string, keepQuery: boolean): string {
  let out = path;
  if (!keepQuery) {
    const query = out.indexOf('?');
    if (query >= 0) out = out.slice(0, query);
  } else if (out.includes('burrow_token=')) {
    out = out.replace(TOKEN_PARAM, '$1***');
  }
  return out.length > MAX_RECORD_PATH ? out.slice(0, MAX_RECORD_PATH) : out;
}

export function recordHost(host: string): string {
  return host.length > MAX_RECORD_HOST ? host.slice(0, MAX_RECORD_HOST) : host;
}

/** A copy of a flat header list with the values of `redact` names as `***`. */
export function redactedHeaders(headers: readonly string[], redact: ReadonlySet<string>): string[] {
  const out = headers.slice();
  if (redact.size === 0) return out;
  for (let i = 0; i + 1 < out.length; i += 2) if (redact.has(out[i]!.toLowerCase())) out[i + 1] = '***';
  return out;
}
