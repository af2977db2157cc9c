/**
 * Keep-alive connection pools to the local services, one undici Pool per origin, shared by
 * every session of an agent so a reconnect to the edge keeps the warm origin connections.
 */

import { TunnelError } from '@burrow/protocol';
import type { Pool } from 'undici';
// undici's index loads fetch, WebSocket, caches, mocks and interceptors the agent never uses
// (~3.5 MB of heap); its Pool alone is all the forwarder dispatches through.
import PoolClass from 'undici/lib/dispatcher/pool.js';

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

  /** The pool for `origin` (scheme, host, port), created on first use. */
  get(origin: URL): Pool {
    if (this.closed) throw new TunnelError('TUN_ERR_INTERNAL', 'origin pools are closed');
    const key = origin.origin;
    let pool = this.pools.get(key);
    if (pool === undefined) {
      pool = new PoolClass(key, {
        connections: this.options.connections,
        // One request per connection at a time: a slow response never holds up the next request.
        pipelining: 1,
        // Timeouts are the forwarder's (originTimeoutMs for the head, on injected timers); a
        // streaming body (SSE, a long download) may legitimately stay quiet for a long time.
        headersTimeout: 0,
        bodyTimeout: 0,
        // Local dev servers on https usually have self-signed certificates; the tunnel is the
        // developer's own, so like other tunnel agents we do not verify the local hop.
        connect: { rejectUnauthorized: false },
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
