/**
 * What the edge listens on for viewers and agents: the http.Server itself, or, with
 * `proxy.protocol`, a ProxyProtocolListener in front of it. The edge listens on, closes and
 * reads the port of whichever this returns. The HTTPS listener puts the same reader, with
 * the same options (`proxyProtocolOptions`), in front of its TLS handshakes.
 */

import type { Server as HttpServer } from 'node:http';
import type { Server } from 'node:net';
import type { Timers } from '@burrow/protocol';
import type { EdgeConfig } from '../config/index.js';
import type { Logger } from '../logger.js';
import { AddressBlocks } from './address-blocks.js';
import {
  ProxyProtocolListener,
  serverTarget,
  type ProxyProtocolOptions,
  type ProxyRefusal,
} from './proxy-protocol-listener.js';

/** Refusals are logged at warn for the first and every this many after, at debug in between. */
const WARN_EVERY = 1000;

function logRefusal(log: Logger, listener: string, refusal: ProxyRefusal): void {
  const line = {
    listener,
    remote: refusal.remoteAddress,
    reason: refusal.reason,
    refusedTotal: refusal.count,
  };
  const message = 'closed a connection without a valid PROXY protocol header';
  if (refusal.count === 1 || refusal.count % WARN_EVERY === 0) log.warn(line, message);
  else log.debug(line, message);
}

/** The PROXY reader's options for one listener (`listener` names it in logs); null when it is off. */
export function proxyProtocolOptions(
  proxy: EdgeConfig['proxy'],
  listener: 'http' | 'https',
  deps: { timers: Timers; log: Logger },
): ProxyProtocolOptions | null {
  if (!proxy.protocol) return null;
  return {
    from: AddressBlocks.parse(proxy.protocolFrom),
    headerTimeoutMs: proxy.headerTimeoutMs,
    timers: deps.timers,
    noDelay: true,
    onRefused: (refusal) => logRefusal(deps.log, listener, refusal),
  };
}

export function createPublicListener(
  server: HttpServer,
  proxy: EdgeConfig['proxy'],
  deps: { timers: Timers; log: Logger },
): Server {
  const options = proxyProtocolOptions(proxy, 'http', deps);
  if (options === null) return server;
  return new ProxyProtocolListener(serverTarget(server), options).server;
}
