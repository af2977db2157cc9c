/**
 * Keep-alive connection pools to the local services, one undici Pool per origin, shared by
 * every session of an agent so a reconnect to the edge keeps the warm origin connections.
 */

import { TunnelError } from '@burrow/protocol';
import type { Pool, buildConnector as Connector } from 'undici';
// undici's index loads fetch, WebSocket, caches, mocks and interceptors the agent never uses
// (~3.5 MB of heap); its Pool and connector alone are all the forwarder needs.
import buildConnector from 'undici/lib/core/connect.js';
import PoolClass from 'undici/lib/dispatcher/pool.js';
import type { OriginTlsOptions } from './origin-tls-options.js';

/**
 * The servername every pooled request carries. undici compares it per request and would
 * reconnect on a change; the pool's connector ignores it and uses the route's own.
 */
export const POOLED_SERVERNAME = 'burrow-origin';

export interface OriginPoolOptions {
  /** Most open connections to one origin. */
  readonly connections: number;
}

/**
 * Created by the agent and destroyed with it, after its sessions have drained (so nothing is
 * in flight any more); `get` after that throws.
 */
export class OriginPools {
  private readonly options: OriginPoolOptions;
  private readonly pools = new Map<string, Pool>();
  private closed = false;

  constructor(options: OriginPoolOptions) {
    this.options = options;
  }

  /** The pool for `origin` (scheme, host, port) with these TLS settings, created on first use. */
  get(origin: URL, tls: OriginTlsOptions): Pool {
    if (this.closed) throw new TunnelError('TUN_ERR_INTERNAL', 'origin pools are closed');
    const secure = origin.protocol === 'https:';
    const key = secure ? `${origin.origin} ${tls.key}` : origin.origin;
    let pool = this.pools.get(key);
    if (pool === undefined) {
      pool = new PoolClass(origin.origin, {
        connections: this.options.connections,
        // One request per connection at a time: a slow response never holds up the next request.
        pipelining: 1,
        // Timeouts are the forwarder's (originTimeoutMs for the head, on injected timers); a
        // streaming body (SSE, a long download) may legitimately stay quiet for a long time.
        headersTimeout: 0,
        bodyTimeout: 0,
        ...(secure ? { connect: tlsConnector(tls) } : {}),
      });
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** Aborts everything at once. */
  async destroy(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.pools.values()].map((pool) => pool.destroy()));
  }
}

/**
 * undici's own connector with the route's TLS settings, dropping the per-request servername
 * (POOLED_SERVERNAME) so that `servername` here decides SNI and the verified name; '' (an IP
 * origin) leaves SNI out and checks the address.
 */
function tlsConnector(tls: OriginTlsOptions): Connector.connector {
  const connect = buildConnector({
    rejectUnauthorized: tls.rejectUnauthorized,
    servername: tls.servername,
    ...(tls.ca === undefined ? {} : { ca: [...tls.ca] }),
  });
  return (options, callback) => connect({ ...options, servername: undefined }, callback);
}
