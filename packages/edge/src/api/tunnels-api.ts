/**
 * `/tunnels`: a user's tunnel names (reserved and temporary) and their stored access
 * policy. Reserving here is what `burrow http --name` does on first use, without
 * an agent; the stored policy applies whenever any agent binds the name.
 */

import { TunnelError } from '@burrow/protocol';
import { validateName } from '../gateway/names.js';
import { parsePolicySpec, parseStoredPolicySpec, redactPolicySpec } from '../policy/index.js';
import type { TunnelRecord } from '../store/index.js';
import type { ApiCaller } from './api-auth.js';
import { mayAccess, notYours, type ApiDeps } from './api-deps.js';
import { asApiError } from './api-http.js';
import { tunnelCertificateOf } from './certificate-view.js';
import type { ApiRequest, ApiRoute } from './api-router.js';

export function tunnelView(tunnel: TunnelRecord, deps: ApiDeps): Record<string, unknown> {
  return {
    name: tunnel.name,
    kind: tunnel.kind,
    url: deps.urlFor(tunnel.name),
    online: deps.isOnline(tunnel.name),
    owner: tunnel.ownerUserName,
    hasPolicy: tunnel.policy !== null,
    createdAt: tunnel.createdAt.toISOString(),
    lastActiveAt: tunnel.lastActiveAt.toISOString(),
  };
}

function policyView(policy: Record<string, unknown> | null): { policy: Record<string, unknown> | null } {
  // Stored specs were validated on the way in; redaction keeps passwords and tokens out of answers.
  return { policy: policy === null ? null : { ...redactPolicySpec(parseStoredPolicySpec(policy)) } };
}

/** The caller's tunnel by name, or 404 whether it is missing or someone else's. */
export async function ownTunnel(deps: ApiDeps, caller: ApiCaller, raw: string): Promise<TunnelRecord> {
  const tunnel = await deps.store.getTunnel(raw.toLowerCase());
  if (tunnel === undefined || !mayAccess(caller, tunnel.ownerUserId)) throw notYours('tunnel', raw);
  return tunnel;
}

export function tunnelRoutes(deps: ApiDeps): ApiRoute[] {
  const { store } = deps;
  return [
    {
      method: 'GET',
      path: '/tunnels',
      async handle({ caller }: ApiRequest) {
        const tunnels = caller.admin
          ? await store.listTunnelsActiveSince(new Date(0))
          : await store.listTunnelsOwnedByUser(caller.userId);
        tunnels.sort((a, b) => (a.name < b.name ? -1 : 1));
        return { status: 200, body: { tunnels: tunnels.map((t) => tunnelView(t, deps)) } };
      },
    },
    {
      method: 'GET',
      path: '/tunnels/{name}',
      async handle({ caller, params }: ApiRequest) {
        const tunnel = await ownTunnel(deps, caller, params.name!);
        const certificate = await tunnelCertificateOf(deps, tunnel.name);
        return { status: 200, body: { ...tunnelView(tunnel, deps), ...certificate } };
      },
    },
    {
      method: 'PUT',
      path: '/tunnels/{name}',
      async handle({ caller, params }: ApiRequest) {
        const name = validateName(params.name!);
        const existed = (await store.getTunnel(name))?.ownerUserId === caller.userId;
        const tunnel = await store.reserveName({
          name,
          userId: caller.userId,
          maxNamedPerUser: deps.reservedNamesPerUser,
        });
        // A name new to this user starts with no traffic, whoever used it before.
        if (!existed) deps.nameReleased(name);
        return { status: existed ? 200 : 201, body: tunnelView(tunnel, deps) };
      },
    },
    {
      method: 'DELETE',
      path: '/tunnels/{name}',
      async handle({ caller, params }: ApiRequest) {
        const tunnel = await ownTunnel(deps, caller, params.name!);
        if (deps.isOnline(tunnel.name)) {
          throw new TunnelError(
            'TUN_ERR_NAME_IN_USE',
            `"${tunnel.name}" is online; stop the agent serving it, then release the name`,
          );
        }
        const released =
          tunnel.ownerUserId === caller.userId
            ? await store.releaseName({ name: tunnel.name, userId: caller.userId })
            : await store.deleteTunnel(tunnel.name);
        if (!released) throw notYours('tunnel', tunnel.name);
        deps.nameReleased(tunnel.name);
        await deps.domainsChanged();
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/tunnels/{name}/policy',
      async handle({ caller, params }: ApiRequest) {
        const tunnel = await ownTunnel(deps, caller, params.name!);
        return { status: 200, body: policyView(tunnel.policy) };
      },
    },
    {
      method: 'PUT',
      path: '/tunnels/{name}/policy',
      async handle({ caller, params, readBody }: ApiRequest) {
        const tunnel = await ownTunnel(deps, caller, params.name!);
        const body = await readBody();
        let spec: Record<string, unknown>;
        try {
          spec = { ...parsePolicySpec(body) };
        } catch (err) {
          throw err instanceof TunnelError ? asApiError(err) : err;
        }
        const updated = await store.setTunnelPolicy(tunnel.name, spec);
        if (updated === null) throw notYours('tunnel', tunnel.name);
        deps.applyStoredPolicy(tunnel.name, spec, tunnel.ownerUserId);
        return { status: 200, body: policyView(updated.policy) };
      },
    },
    {
      method: 'DELETE',
      path: '/tunnels/{name}/policy',
      async handle({ caller, params }: ApiRequest) {
        const tunnel = await ownTunnel(deps, caller, params.name!);
        await store.setTunnelPolicy(tunnel.name, null);
        deps.applyStoredPolicy(tunnel.name, null, tunnel.ownerUserId);
        return { status: 204 };
      },
    },
  ];
}
