/**
 * The one client address the whole edge uses for a request: the connection's peer (after
 * the PROXY protocol, see peer-address.ts), or, when that peer is a trusted proxy, the
 * client its forwarding headers name (trusted-proxies.ts). Resolved once, when the request
 * arrives, before any other listener sees it; everything later (rate limits, lockouts, IP
 * rules, quotas, logs, the headers sent to the origin) reads the same answer.
 */

import type { IncomingMessage, Server } from 'node:http';
import { peerAddressOf } from './peer-address.js';
import type { TrustedProxies } from './trusted-proxies.js';

const resolved = new WeakMap<IncomingMessage, string>();

/**
 * Resolves each request's (and upgrade's, and CONNECT's) client address on arrival.
 * Prepended, so it runs before listeners attached earlier or later with `on`.
 */
export function resolveClientAddresses(server: Server, trusted: TrustedProxies): void {
  const resolve = (req: IncomingMessage): void => {
    resolved.set(req, trusted.clientAddress(peerAddressOf(req.socket), req.rawHeaders));
  };
  server.prependListener('request', resolve);
  server.prependListener('upgrade', resolve);
  server.prependListener('connect', resolve);
}

/** The request's client address; the connection's peer for a server without resolveClientAddresses. */
export function clientAddressOf(req: IncomingMessage): string {
  return resolved.get(req) ?? peerAddressOf(req.socket);
}
