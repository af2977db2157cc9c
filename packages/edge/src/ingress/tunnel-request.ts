/**
 * What ingress knows about a viewer request once it is routed to a tunnel, resolved once:
 * one registry lookup, one policy lookup. Every later step (traffic counter, policy gate,
 * warning gate, the exchange) reads this instead of looking anything up again.
 */

import type { IncomingMessage } from 'node:http';
import type { Timers } from '@burrow/protocol';
import { clientAddressOf } from '../listeners/client-address.js';
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
  /** The Host header as sent, or the tunnel name without one (for messages and X-Forwarded-Host). */
  readonly host: string;
  readonly method: string;
  readonly startedAt: number;
}

export interface RequestResolveDeps {
  registry: Registry;
  policies: PolicySource;
  timers: Timers;
  newRequestId(): string;
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
    host: req.headers.host ?? route.name,
    method: req.method ?? 'GET',
    startedAt: deps.timers.now(),
  };
}
