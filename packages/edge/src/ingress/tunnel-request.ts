/**
 * What ingress knows about a viewer request once it is routed to a tunnel, resolved once:
 * one registry lookup, one policy lookup. Every later step (policy gate, warning gate,
 * the exchange and its record) reads this instead of looking anything up again.
 */

import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Timers } from '@burrow/protocol';
import { clientAddressOf } from '../listeners/client-address.js';
import { traceContextFor, type TraceContext } from '../observe/trace-context.js';
import type { TunnelPolicy } from '../policy/index.js';
import type { Registry, TunnelTarget } from '../registry/registry.js';

/** Where a request goes: the tunnel name, the path to forward, and the `/t/<name>` prefix if routed by path. */
export interface TunnelRoute {
  readonly name: string;
  readonly path: string;
  readonly prefix: string | null;
}

/** Read access to compiled policies by tunnel name. */
export interface PolicySource {
  get(name: string): TunnelPolicy | null;
}

export interface TunnelRequest {
  readonly route: TunnelRoute;
  /** The target bound to the name when the request arrived; undefined while none is (reconnect, unknown). */
  readonly target: TunnelTarget | undefined;
  readonly policy: TunnelPolicy | null;
  readonly requestId: string;
  /** `clientAddressOf(req)`: the real client behind PROXY protocol and trusted proxies. */
  readonly clientAddress: string;
  /** The Host header (HTTP/2: :authority) as sent, or the tunnel name without one (for messages and X-Forwarded-Host). */
  readonly host: string;
  /** The request came over TLS (the HTTPS listener): proto https, secure cookies, HSTS. */
  readonly secure: boolean;
  readonly method: string;
  readonly startedAt: number;
  /** The viewer's W3C trace continued, or a new one: the origin gets its `traceparent`, the record its id. */
  readonly trace: TraceContext;
}

export interface RequestResolveDeps {
  registry: Registry;
  policies: PolicySource;
  timers: Timers;
  newRequestId(): string;
  /** Whether a trace started at the edge is sampled (true when spans are exported). */
  sampleNewTraces?: boolean;
}

/** Not frozen: `readonly` says it to the compiler, and this runs for every request. */
export function resolveRequest(
  deps: RequestResolveDeps,
  req: IncomingMessage,
  route: TunnelRoute,
): TunnelRequest {
  const target = deps.registry.lookup(route.name);
  return {
    route,
    target,
    policy: deps.policies.get(route.name),
    requestId: deps.newRequestId(),
    clientAddress: clientAddressOf(req),
    host: req.headers.host ?? (req.headers[':authority'] as string | undefined) ?? route.name,
    secure: (req.socket as Partial<TLSSocket>).encrypted === true,
    method: req.method ?? 'GET',
    startedAt: deps.timers.now(),
    trace: traceContextFor(
      oneHeader(req.headers.traceparent),
      oneHeader(req.headers.tracestate),
      deps.sampleNewTraces === true,
    ),
  };
}

/** A repeated trace header is taken as absent (the spec says to restart the trace). */
function oneHeader(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
