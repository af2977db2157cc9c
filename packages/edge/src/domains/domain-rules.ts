/**
 * Rules for adding and routing custom domains that the CLI and the control API share, so
 * a domain added either way is checked the same way.
 */

import { TunnelError } from '@burrow/protocol';
import { validateName } from '../gateway/names.js';
import type { Store } from '../store/index.js';

/**
 * Custom domains live outside the edge's own domain: names under it are tunnel names,
 * handed out by BIND, and a custom domain there would shadow one.
 */
export function refuseOwnDomain(hostname: string, baseDomain: string): void {
  if (hostname === baseDomain || hostname.endsWith(`.${baseDomain}`)) {
    throw new TunnelError(
      'TUN_ERR_NAME_INVALID',
      `"${hostname}" is inside this edge's own domain ${baseDomain}, where tunnels get their names from agents; use a hostname outside it, or bind the tunnel with --name`,
    );
  }
}

/**
 * Reserves `name` for the user (a no-op when it is already theirs) so a domain may route to
 * it; TUN_ERR_NAME_TAKEN naming the owner when it belongs to someone else, TUN_ERR_NAME_LIMIT
 * past `maxNamedPerUser` (absent for operators on the CLI).
 */
export async function reserveTunnelFor(
  store: Store,
  userId: string,
  name: string,
  maxNamedPerUser?: number,
): Promise<string> {
  const tunnel = await store.reserveName({ name: validateName(name), userId, maxNamedPerUser });
  return tunnel.name;
}
