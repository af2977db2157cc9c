/**
 * Which names this edge orders certificates for, decided before anything is written or
 * ordered: the edge's own host, `<name>.<domain>` for a reserved name (one store read) or,
 * only with `acme.onDemandTemporary`, a live temporary tunnel (memory: anyone with the
 * anonymous quota could otherwise cycle random tunnels through the week's per-domain order
 * budget; the DNS-01 wildcard, which any live tunnel may join, is their certificate), and
 * verified custom domains that route to a tunnel (DomainRoutes:
 * memory, reloaded at most once per few seconds). Everything else, above all the random SNI
 * names scanners send, is refused, so it costs no order and no write.
 */
import { isIP } from 'node:net';
import type { Store } from '../../store/index.js';

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export interface ResponsibilityDeps {
  /** The edge's base domain (lower-case). */
  domain: string;
  isLive(name: string): boolean;
  store: Pick<Store, 'getTunnel'>;
  customHosts: { lookup(host: string): Promise<string | undefined> };
  /** `acme.onDemandTemporary`: HTTP-01 orders of their own for temporary tunnels. */
  onDemandTemporary: boolean;
}

/** The SNI name as compared and stored, or null when it cannot be a DNS name. */
export function normalizeServerName(raw: string): string | null {
  const host = raw.trim().toLowerCase().replace(/\.$/, '');
  if (host.length === 0 || host.length > 253 || isIP(host) !== 0) return null;
  return host.split('.').every((label) => LABEL.test(label)) ? host : null;
}

/** `forWildcard`: the host would join the `*.<domain>` order rather than get its own. */
export type Responsibility = (host: string, forWildcard?: boolean) => Promise<boolean>;

export function responsibility(deps: ResponsibilityDeps): Responsibility {
  const suffix = `.${deps.domain}`;
  return async (host, forWildcard = false) => {
    if (host === deps.domain) return true;
    if (host.endsWith(suffix)) {
      const name = host.slice(0, -suffix.length);
      if (name.includes('.')) return false;
      if ((forWildcard || deps.onDemandTemporary) && deps.isLive(name)) return true;
      return (await deps.store.getTunnel(name))?.kind === 'named';
    }
    return (await deps.customHosts.lookup(host)) !== undefined;
  };
}
