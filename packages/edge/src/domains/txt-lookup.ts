/**
 * TXT lookups for custom-domain verification through `node:dns/promises`, against the
 * configured servers (or the system's), each bounded by a hard deadline.
 */

import { Resolver } from 'node:dns/promises';
import type { Timers } from '@burrow/protocol';

/**
 * The TXT records at `name`, each record's chunks joined. Rejects as `dns` does, with
 * `err.code` (ENODATA, ENOTFOUND, ECANCELLED on the deadline, ...).
 */
export type TxtLookup = (name: string) => Promise<string[]>;

export interface TxtLookupOptions {
  /** `dns.Resolver#setServers` form (`ip`, `ip:port`, `[IPv6]:port`); empty uses the system's. */
  servers: readonly string[];
  /** Whole-lookup deadline, retries included. */
  timeoutMs: number;
  timers: Timers;
}

/**
 * One Resolver per lookup: `cancel()` on a deadline aborts every query of a Resolver, so
 * sharing one would let a slow domain cut off the others in the same pass.
 */
export function createTxtLookup(options: TxtLookupOptions): TxtLookup {
  const { servers, timeoutMs, timers } = options;
  return async (name) => {
    // c-ares doubles its per-try timeout on retry; two tries of a third fit inside the deadline.
    const resolver = new Resolver({ timeout: Math.max(1, Math.floor(timeoutMs / 3)), tries: 2 });
    if (servers.length > 0) resolver.setServers([...servers]);
    // cancel() rejects the pending query with ECANCELLED, which callers read as a timeout.
    const timer = timers.setTimeout(() => resolver.cancel(), timeoutMs);
    try {
      const records = await resolver.resolveTxt(name);
      return records.map((chunks) => chunks.join(''));
    } finally {
      timers.clearTimeout(timer);
    }
  };
}
