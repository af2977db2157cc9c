/**
 * Serves the streams the edge opens on a session: picks the route by the tunnel name in the
 * request head, sets the Host header the route asks for, and hands the stream to the HTTP or
 * the upgrade forwarder.
 */

import { TunnelError, toTunnelError, type MuxStream } from '@burrow/protocol';
import type { TunnelSpec } from './config/index.js';
import type { ForwardContext } from './forward-context.js';
import { hostHeaderValue, withHostHeader } from './host-header.js';
import { forwardHttp } from './http-forwarder.js';
import { originTlsOptions, type OriginTlsOptions } from './origin-tls-options.js';
import { forwardUpgrade } from './upgrade-forwarder.js';

/** Where one tunnel's requests go. */
export interface Route {
  /** Scheme, host and port of the local service. */
  readonly origin: URL;
  /** Host header value sent to the origin, or null to pass the viewer's on unchanged. */
  readonly host: string | null;
  /** How an https:// origin is connected to and verified. */
  readonly tls: OriginTlsOptions;
}

/** Tunnel name (as bound on this session) → route. */
export type RouteTable = ReadonlyMap<string, Route>;

export function routeFor(
  spec: Pick<TunnelSpec, 'origin' | 'hostHeader'> & Partial<Pick<TunnelSpec, 'originTls'>>,
): Route {
  return {
    origin: spec.origin,
    host: hostHeaderValue(spec.hostHeader, spec.origin),
    tls: originTlsOptions(spec.origin, spec.originTls),
  };
}

/**
 * Handles one stream. Never throws: the listener runs inside the session's frame dispatch,
 * where an exception would be taken for a protocol error and close the whole session.
 */
export function serveStream(stream: MuxStream, routes: RouteTable, context: ForwardContext): void {
  try {
    const head = stream.requestHead;
    if (head === null) throw new TunnelError('TUN_ERR_PROTOCOL', 'stream without a request head');
    const route = routes.get(head.tunnel);
    if (route === undefined) {
      stream.reset(
        new TunnelError('TUN_ERR_TUNNEL_NOT_FOUND', `this agent serves no tunnel named "${head.tunnel}"`),
      );
      return;
    }
    // One place for both forwarders, so an upgrade gets the same Host as a plain request.
    const sent = route.host === null ? head : { ...head, headers: withHostHeader(head.headers, route.host) };
    // With span export on, the origin's traceparent names the agent's span, which ends with the exchange.
    const traced = context.tracer ? context.tracer.trace(sent, route.origin, context) : null;
    const out = traced === null ? sent : traced.head;
    const ctx = traced === null ? context : traced.context;
    if (stream.upgrade) forwardUpgrade(stream, out, route.origin, route.tls, ctx);
    else forwardHttp(stream, out, route.origin, route.tls, ctx);
  } catch (err) {
    stream.reset(toTunnelError(err));
  }
}
