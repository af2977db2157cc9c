/**
 * What the control API's handlers need from the rest of the edge, and the ownership rule
 * they all apply: a caller sees and changes its own user's resources, an admin key every
 * user's. Reading, changing or deleting someone else's resource answers exactly like a
 * missing one (404). Claiming a name or hostname someone else holds is the one exception:
 * it says who holds it (409 TUN_ERR_NAME_TAKEN), as BIND does, so the owner can be asked.
 */

import type { ReplayResult } from '../ingress/replay.js';
import type { RequestRecord } from '../store/request-records.js';
import { TunnelError, type Timers } from '@burrow/protocol';
import type { RequestFeed } from '../observe/request-feed.js';
import type { TunnelStats } from '../observe/tunnel-stats.js';
import type { Store } from '../store/index.js';
import type { ApiCaller } from './api-auth.js';

export interface ApiDeps {
  store: Store;
  /** The edge's own domain: custom domains must lie outside it. */
  baseDomain: string;
  /** The public URL of a tunnel name. */
  urlFor(name: string): string;
  /** True while an agent serves the name. */
  isOnline(name: string): boolean;
  /** Per-tunnel statistics (`GET /tunnels/{name}/stats`, and the older `…/traffic`). */
  stats: TunnelStats;
  /** The live feed behind `GET /tunnels/{name}/requests/stream`. */
  feed: RequestFeed;
  /** Ids of the agent sessions serving the name on this edge now (empty when offline). */
  liveSessions(name: string): string[];
  timers: Timers;
  /** Tunnel names one user may reserve (limits.reservedNamesPerUser). */
  reservedNamesPerUser: number;
  /** Makes a newly stored policy apply to the live binding of the name by a session of its owner, if any. */
  applyStoredPolicy(name: string, policy: Record<string, unknown> | null, ownerUserId: string | null): void;
  /** Custom domains changed: reload the routes so the change applies to the next request. */
  domainsChanged(): Promise<void>;
  /**
   * A name was released, or reserved by a new owner: per-name state elsewhere (statistics,
   * metric series) starts over. The janitor's freed names go the same way.
   */
  nameReleased(name: string): void;
  /** Sends a recorded request through its tunnel again (ingress/replay.ts); answers the new record's id. */
  replay(record: RequestRecord, callerAddress: string, signal: AbortSignal): Promise<ReplayResult>;
}

export function mayAccess(caller: ApiCaller, ownerUserId: string | null): boolean {
  return caller.admin || (ownerUserId !== null && ownerUserId === caller.userId);
}

export function notYours(what: string, name: string): TunnelError {
  const code = what === 'tunnel' ? 'TUN_ERR_TUNNEL_NOT_FOUND' : 'TUN_ERR_NOT_FOUND';
  return new TunnelError(code, `you have no ${what} "${name}"`);
}
