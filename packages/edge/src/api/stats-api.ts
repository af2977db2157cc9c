/**
 * `GET /tunnels/{name}/stats`: the tunnel's statistics as this edge counted them
 * (observe/tunnel-stats.ts) and the agent sessions serving it now. Owner or admin only.
 * `GET /tunnels/{name}/traffic`, its deprecated predecessor, answers from the same counts.
 */

import type { TunnelStatsSnapshot } from '../observe/tunnel-stats.js';
import type { ApiDeps } from './api-deps.js';
import type { ApiRequest, ApiRoute } from './api-router.js';
import { ownTunnel } from './tunnels-api.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function statsView(name: string, stats: TunnelStatsSnapshot, sessions: readonly string[]) {
  const [none, c1, c2, c3, c4, c5] = stats.statusClasses;
  return {
    name,
    since: new Date(stats.since).toISOString(),
    sessions: sessions.map((id) => ({ id })),
    requests: stats.requests,
    upgrades: stats.upgrades,
    openWebSockets: stats.openWebSockets,
    statusClasses: { '1xx': c1, '2xx': c2, '3xx': c3, '4xx': c4, '5xx': c5, none },
    errorCodes: stats.errorsByCode,
    bytesIn: stats.bytesIn,
    bytesOut: stats.bytesOut,
    lastStatus: stats.lastStatus,
    lastStatusAt: iso(stats.lastAt),
    latency: stats.latency,
  };
}

export function statsRoutes(deps: ApiDeps): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/tunnels/{name}/stats',
      async handle({ caller, params }: ApiRequest) {
        const tunnel = await ownTunnel(deps, caller, params.name!);
        const body = statsView(
          tunnel.name,
          deps.stats.get(tunnel.name, tunnel.ownerUserId),
          deps.liveSessions(tunnel.name),
        );
        return { status: 200, body };
      },
    },
    {
      method: 'GET',
      path: '/tunnels/{name}/traffic',
      async handle({ caller, params }: ApiRequest) {
        const tunnel = await ownTunnel(deps, caller, params.name!);
        const stats = deps.stats.get(tunnel.name, tunnel.ownerUserId);
        return {
          status: 200,
          body: {
            name: tunnel.name,
            since: new Date(stats.since).toISOString(),
            requests: stats.requests,
            // Finished upgrades and open ones: what the counter at routing time used to count.
            upgrades: stats.upgrades + stats.openWebSockets,
            lastRequestAt: iso(stats.lastAt),
          },
        };
      },
    },
  ];
}
