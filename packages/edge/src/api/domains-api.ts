/**
 * `/domains`: a user's custom hostnames. Adding one answers with the TXT record that
 * verifies it; it routes to its tunnel once the edge's verifier has seen that record.
 */

import { TunnelError } from '@burrow/protocol';
import { refuseOwnDomain, reserveTunnelFor } from '../domains/domain-rules.js';
import {
  domainVerificationRecord,
  lookupDomainHostname,
  normalizeDomainHostname,
  type DomainRecord,
} from '../store/index.js';
import type { ApiCaller } from './api-auth.js';
import { certificateOf } from './certificate-view.js';
import { mayAccess, notYours, type ApiDeps } from './api-deps.js';
import type { ApiRequest, ApiRoute } from './api-router.js';

export function domainView(domain: DomainRecord): Record<string, unknown> {
  return {
    hostname: domain.hostname,
    tunnel: domain.tunnelName,
    verified: domain.verifiedAt !== null,
    verifiedAt: domain.verifiedAt?.toISOString() ?? null,
    createdAt: domain.createdAt.toISOString(),
    verificationRecord: domainVerificationRecord(domain.hostname, domain.verificationToken),
  };
}

async function ownDomain(deps: ApiDeps, caller: ApiCaller, raw: string): Promise<DomainRecord> {
  const domain = await deps.store.getDomain(lookupDomainHostname(raw));
  if (domain === undefined || !mayAccess(caller, domain.userId)) throw notYours('custom domain', raw);
  return domain;
}

/** `tunnel` in a body: a tunnel name, or null (route nowhere). Absent is `undefined`. */
function tunnelField(body: Record<string, unknown>): string | null | undefined {
  const value = body.tunnel;
  if (value === undefined || value === null) return value;
  if (typeof value !== 'string') {
    throw new TunnelError('TUN_ERR_INVALID_INPUT', '"tunnel" must be a tunnel name or null');
  }
  return value;
}

export function domainRoutes(deps: ApiDeps): ApiRoute[] {
  const { store } = deps;
  return [
    {
      method: 'GET',
      path: '/domains',
      async handle({ caller }: ApiRequest) {
        const domains = await store.listDomains(caller.admin ? {} : { userId: caller.userId });
        return { status: 200, body: { domains: domains.map(domainView) } };
      },
    },
    {
      method: 'POST',
      path: '/domains',
      async handle({ caller, readBody }: ApiRequest) {
        const body = await readBody();
        if (typeof body.hostname !== 'string') {
          throw new TunnelError('TUN_ERR_INVALID_INPUT', '"hostname" is required, e.g. "app.example.org"');
        }
        const hostname = normalizeDomainHostname(body.hostname);
        refuseOwnDomain(hostname, deps.baseDomain);
        const wanted = tunnelField(body);
        const tunnelName =
          wanted == null
            ? null
            : await reserveTunnelFor(store, caller.userId, wanted, deps.reservedNamesPerUser);
        const domain = await store.addDomain({ hostname, userId: caller.userId, tunnelName });
        return { status: 201, body: domainView(domain) };
      },
    },
    {
      method: 'GET',
      path: '/domains/{hostname}',
      async handle({ caller, params }: ApiRequest) {
        const domain = await ownDomain(deps, caller, params.hostname!);
        return {
          status: 200,
          body: { ...domainView(domain), ...(await certificateOf(deps, domain.hostname)) },
        };
      },
    },
    {
      method: 'PATCH',
      path: '/domains/{hostname}',
      async handle({ caller, params, readBody }: ApiRequest) {
        const domain = await ownDomain(deps, caller, params.hostname!);
        const wanted = tunnelField(await readBody());
        if (wanted === undefined) {
          throw new TunnelError('TUN_ERR_INVALID_INPUT', 'send {"tunnel": "<name>"} or {"tunnel": null}');
        }
        // The name is reserved for the domain's user, who may differ from an admin caller.
        const tunnelName =
          wanted === null
            ? null
            : await reserveTunnelFor(store, domain.userId, wanted, deps.reservedNamesPerUser);
        const updated = await store.setDomainTunnel(domain.hostname, tunnelName);
        if (updated === null) throw notYours('custom domain', domain.hostname);
        await deps.domainsChanged();
        return { status: 200, body: domainView(updated) };
      },
    },
    {
      method: 'DELETE',
      path: '/domains/{hostname}',
      async handle({ caller, params }: ApiRequest) {
        const domain = await ownDomain(deps, caller, params.hostname!);
        await store.removeDomain(domain.hostname, caller.admin ? {} : { userId: caller.userId });
        await deps.domainsChanged();
        return { status: 204 };
      },
    },
  ];
}
