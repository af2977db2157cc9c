/** What every forwarder needs from the agent: pools, time, limits and where records go. */

import type { RequestHead, Timers } from '@burrow/protocol';
import type { OriginPools } from './origin-pools.js';
import type { RequestRecord } from './request-log.js';

export interface ForwardContext {
  readonly pools: OriginPools;
  readonly timers: Timers;
  /** The origin must answer with a response head within this, in ms, counted from its last progress. */
  readonly originTimeoutMs: number;
  /** Called once per finished exchange, successful or not. */
  readonly onRequest: (record: RequestRecord) => void;
  /** Span export (tracing/origin-tracer.ts); absent or null when off. */
  readonly tracer?: OriginCallTracer | null;
}

/** Traces one origin call: the head to forward and the context that ends its span, or null when not traced. */
export interface OriginCallTracer {
  trace(
    head: RequestHead,
    origin: URL,
    context: ForwardContext,
  ): { head: RequestHead; context: ForwardContext } | null;
}

/** The origin's TCP port; URL leaves a scheme's default port empty. */
export function originPort(origin: URL): number {
  return origin.port !== '' ? Number(origin.port) : origin.protocol === 'https:' ? 443 : 80;
}

/** The origin's host for a socket: IPv6 without the URL's brackets. */
export function originHost(origin: URL): string {
  return origin.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** `127.0.0.1:3000`, `[::1]:8080`, `localhost:443`: how errors name an origin. */
export function originAddress(origin: URL): string {
  return `${origin.hostname}:${originPort(origin)}`;
}
