/** The key edge-wide viewer limits count a client under: its IPv4 address or IPv6 /64. */

import { clientKey, parseIp } from '../policy/cidr.js';

/**
 * `socket.remoteAddress` reduced to policy's client key, so a host holding a whole IPv6 /64
 * counts once. An undefined address (the socket already closed) gets one shared key.
 */
export function viewerKey(remoteAddress: string | undefined): string {
  const raw = remoteAddress ?? '';
  return clientKey(parseIp(raw), raw);
}
